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
    expect((refused as ValidationException).message).toMatch(/Asia\/Kolkata is UTC\+05:30 on .*, not a whole number of PT1H intervals from UTC.*the interval from \d\d:00Z would be read from the folder named \d\d30 there/);
    expect((refused as ValidationException).fields?.[0]?.Name).toBe("MetricSource.S3SourceConfig.TemplatedPathList");
    expect(await listMetricSets(rt, OPERATOR, detector.AnomalyDetectorArn)).toEqual([]);

    // Fixed folders are read whole, whatever the zone: such a metric set is made, and may not take hourly folders later.
    const fixed = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, Timezone: "Asia/Kolkata", MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "all/")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } } }));
    await expect(updateMetricSet(rt, OPERATOR, { MetricSetArn: fixed.MetricSetArn, MetricSource: hours })).rejects.toThrow(/not a whole number of PT1H intervals/);
    // An update is checked at the frequency the metric set keeps, whatever frequency it names.
    await expect(updateMetricSet(rt, OPERATOR, { MetricSetArn: fixed.MetricSetArn, MetricSetFrequency: "PT10M", MetricSource: hours })).rejects.toThrow(/not a whole number of PT1H intervals/);
    expect((await listMetricSets(rt, OPERATOR, detector.AnomalyDetectorArn))[0]!.MetricSource).toEqual(fixed.MetricSource);
    // In Berlin, hours are UTC's: taken.
    const other = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "berlin", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const berlin = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: other.AnomalyDetectorArn, Timezone: "Europe/Berlin", MetricSource: hours }));
    expect(berlin.Timezone).toBe("Europe/Berlin");
    // A frequency other than the detector's is refused for that, not for the zone.
    await expect(createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "other", MetricSetFrequency: "PT10M", Timezone: "Asia/Kolkata", MetricSource: hours }))).rejects.toThrow(/must match the detector's frequency/);
  });

  it("leaves one made before the check open to changes that do not touch its folders", async () => {
    const dir = await tempDir();
    const rt = localAt(dir, () => T0);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const hours = { S3SourceConfig: { TemplatedPathList: [join(dir, "live/{{yyyyMMdd}}/{{HHmm}}")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } };
    // As stored before the check: straight into the catalog.
    const old = await catalogOf(rt, OPERATOR).createMetricSet(metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, Timezone: "Asia/Kolkata", MetricSource: hours }));
    expect((await updateMetricSet(rt, OPERATOR, { MetricSetArn: old.MetricSetArn, MetricSetDescription: "orders in India" })).MetricSetDescription).toBe("orders in India");
    expect((await updateMetricSet(rt, OPERATOR, { MetricSetArn: old.MetricSetArn, MetricSetFrequency: "PT1H", MetricSetDescription: "the same" })).MetricSetDescription).toBe("the same");
    await expect(updateMetricSet(rt, OPERATOR, { MetricSetArn: old.MetricSetArn, MetricSource: hours })).rejects.toBeInstanceOf(ValidationException);
  });
});
