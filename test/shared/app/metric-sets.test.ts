import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDetector, createMetricSet, listMetricSets, OPERATOR, updateMetricSet } from "../../../shared/app/index.ts";
import { catalogOf } from "../../../shared/app/scope.ts";
import { ValidationException } from "../../../shared/model/errors.ts";
import { localAt, metricSetRequest, T0, tempDir } from "../../builders.ts";

describe("a metric set whose folders its zone would name off its intervals' grid", () => {
  it("is refused with the reason, at creation and at an update that would make it so, and nothing is kept", async () => {
    const dir = await tempDir();
    const rt = localAt(dir, () => T0);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const source = (template: string) => ({ S3SourceConfig: { TemplatedPathList: [template], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } });
    const hours = source(join(dir, "live/{{yyyyMMdd}}/{{HHmm}}"));
    const refused = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetFrequency: undefined, Timezone: "Asia/Kolkata", MetricSource: hours })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationException);
    expect((refused as ValidationException).message).toMatch(/Asia\/Kolkata is UTC\+05:30 on .*: PT1H intervals start on UTC's hours/);
    expect((refused as ValidationException).fields?.[0]?.Name).toBe("Timezone");
    expect(await listMetricSets(rt, OPERATOR, detector.AnomalyDetectorArn)).toEqual([]);

    // Fixed folders are read whole, whatever the zone: such a metric set is made, and may not take hourly folders later.
    const fixed = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, Timezone: "Asia/Kolkata", MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "all/")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } } }));
    await expect(updateMetricSet(rt, OPERATOR, { MetricSetArn: fixed.MetricSetArn, MetricSource: hours })).rejects.toThrow(/straddle two intervals/);
    expect((await listMetricSets(rt, OPERATOR, detector.AnomalyDetectorArn))[0]!.MetricSource).toEqual(fixed.MetricSource);
    // In Berlin, hours are UTC's: taken.
    const other = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "berlin", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const berlin = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: other.AnomalyDetectorArn, Timezone: "Europe/Berlin", MetricSource: hours }));
    expect(berlin.Timezone).toBe("Europe/Berlin");
  });

  it("leaves one made before the check open to changes that do not touch its folders", async () => {
    const dir = await tempDir();
    const rt = localAt(dir, () => T0);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const hours = { S3SourceConfig: { TemplatedPathList: [join(dir, "live/{{yyyyMMdd}}/{{HHmm}}")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } };
    // As stored before the check: straight into the catalog.
    const old = await catalogOf(rt, OPERATOR).createMetricSet(metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, Timezone: "Asia/Kolkata", MetricSource: hours }));
    expect((await updateMetricSet(rt, OPERATOR, { MetricSetArn: old.MetricSetArn, MetricSetDescription: "orders in India" })).MetricSetDescription).toBe("orders in India");
    await expect(updateMetricSet(rt, OPERATOR, { MetricSetArn: old.MetricSetArn, MetricSource: hours })).rejects.toBeInstanceOf(ValidationException);
  });
});
