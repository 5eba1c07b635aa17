import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDetector, createMetricSet, describeMetricSet, getSampleData, OPERATOR, updateMetricSet, type Scope } from "../../../shared/app/index.ts";
import { AccessDeniedException } from "../../../shared/model/errors.ts";
import { localAt, metricSetRequest, tempDir } from "../../builders.ts";

/**
 * A scope given data roots (a tenant of vigil serve) has the sources it names checked
 * through Services.dataFiles before anything is kept; the operator's scope, without
 * roots, reads where it points.
 */
describe("a scope's data roots", () => {
  it("refuse a metric set or a sample whose paths are relative, climb out, lie elsewhere or name S3, and keep nothing", async () => {
    const dir = await tempDir();
    const rt = localAt(join(dir, "vigil"));
    const granted = join(dir, "granted");
    const scope: Scope = { tenant: "t", accountId: "000000000000", dataRoots: [granted] };
    const detector = await createDetector(rt, scope, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const source = (TemplatedPathList: string[], HistoricalDataPathList?: string[]) => metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList, ...(HistoricalDataPathList ? { HistoricalDataPathList } : {}) } } });
    const live = join(granted, "live", "{{yyyyMMdd}}", "{{HHmm}}");
    for (const [template, history, problem] of [
      ["/etc/{{yyyyMMdd}}/{{HHmm}}", undefined, /Access denied to \/etc\/19700101\/0000: it is outside the folders you may read/],
      [live, [`${granted}/../secrets`], /Access denied to .*granted\/\.\.\/secrets: it is outside the folders you may read/],
      ["relative/{{yyyyMMdd}}", undefined, /Access denied to relative\/19700101: it is outside the folders you may read/],
      [live, ["s3://bucket/history/"], /Access denied to s3:\/\/bucket\/history\/: it is an S3 address/],
    ] as const) {
      const refused = createMetricSet(rt, scope, source([template], history ? [...history] : undefined));
      await expect(refused).rejects.toBeInstanceOf(AccessDeniedException);
      await expect(refused).rejects.toThrow(problem);
    }
    expect(await rt.records.list("metricSets")).toEqual([]);
    await expect(getSampleData(rt, scope, { S3SourceConfig: { RoleArn: "arn:aws:iam::000000000000:role/r", HistoricalDataPathList: ["/etc/passwd"], FileFormatDescriptor: { CsvFormatDescriptor: {} } } })).rejects.toThrow(/Access denied to \/etc\/passwd: it is outside the folders you may read/);

    const made = await createMetricSet(rt, scope, source([live], [join(granted, "history")]));
    await expect(updateMetricSet(rt, scope, { MetricSetArn: made.MetricSetArn, MetricSource: { S3SourceConfig: { TemplatedPathList: ["/var/{{yyyyMMdd}}"] } } })).rejects.toThrow(/Access denied to \/var\/19700101: it is outside the folders you may read/);
    expect((await describeMetricSet(rt, scope, made.MetricSetArn)).MetricSource.S3SourceConfig?.TemplatedPathList).toEqual([live]);
    // The roots are the scope's: the operator, in the same account, points where it likes.
    await updateMetricSet(rt, OPERATOR, { MetricSetArn: made.MetricSetArn, MetricSource: { S3SourceConfig: { TemplatedPathList: ["/var/{{yyyyMMdd}}"] } } });
    expect((await describeMetricSet(rt, scope, made.MetricSetArn)).MetricSource.S3SourceConfig?.TemplatedPathList).toEqual(["/var/{{yyyyMMdd}}"]);
  });
});
