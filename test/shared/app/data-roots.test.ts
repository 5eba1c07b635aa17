import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDetector, createMetricSet, getSampleData, updateMetricSet, type Scope } from "../../../shared/app/index.ts";
import { AccessDeniedException } from "../../../shared/model/errors.ts";
import { localAt, metricSetRequest, tempDir } from "../../builders.ts";

/** A tenant given data roots (vigil serve's dataRoots) reads local files under them alone. */
describe("data roots", () => {
  it("refuses a metric set or a sample whose local paths leave the roots, and writes nothing", async () => {
    const dir = await tempDir();
    const rt = localAt(join(dir, "vigil"));
    const scope: Scope = { tenant: "t", accountId: "000000000000", dataRoots: [join(dir, "granted")] };
    const detector = await createDetector(rt, scope, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const source = (TemplatedPathList: string[], HistoricalDataPathList?: string[]) => metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList, ...(HistoricalDataPathList ? { HistoricalDataPathList } : {}) } } });
    for (const [template, history] of [
      ["/etc/{{yyyyMMdd}}/{{HHmm}}", undefined],
      [join(dir, "granted", "live", "{{yyyyMMdd}}"), [join(dir, "granted", "..", "secrets")]],
      ["relative/{{yyyyMMdd}}", undefined],
    ] as const) {
      await expect(createMetricSet(rt, scope, source([template], history ? [...history] : undefined))).rejects.toBeInstanceOf(AccessDeniedException);
    }
    expect(await rt.records.list("metricSets")).toEqual([]);
    await expect(getSampleData(rt, scope, { S3SourceConfig: { HistoricalDataPathList: ["/etc/passwd"], FileFormatDescriptor: { CsvFormatDescriptor: {} } } } as never)).rejects.toBeInstanceOf(AccessDeniedException);

    const made = await createMetricSet(rt, scope, source([join(dir, "granted", "live", "{{yyyyMMdd}}", "{{HHmm}}")], ["s3://bucket/history/"]));
    await expect(updateMetricSet(rt, scope, { MetricSetArn: made.MetricSetArn, MetricSource: { S3SourceConfig: { TemplatedPathList: ["/var/{{yyyyMMdd}}"] } } })).rejects.toThrow(/not under this tenant's data roots/);
  });
});
