import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Catalog } from "../../../shared/catalog/catalog.ts";
import { ConflictException, ResourceNotFoundException, ServiceQuotaExceededException, ValidationException } from "../../../shared/model/errors.ts";
import { LOCAL_ARN_SCOPE } from "../../../shared/model/ids.ts";
import { SqliteRecordStore } from "../../../shared/store/sqlite-records.ts";
import { metricSetRequest, T0, tempDir } from "../../builders.ts";

async function catalog() {
  const records = SqliteRecordStore.open(join(await tempDir(), "records.db"), { now: () => T0 });
  return { records, catalog: new Catalog({ records, scope: LOCAL_ARN_SCOPE, now: () => T0 }) };
}
const detector = { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } };

describe("catalog", () => {
  it("creates a detector with an L4M ARN, once per name", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    expect(d).toMatchObject({ AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop", Status: "INACTIVE", CreationTime: new Date(T0).toISOString() });
    await expect(c.createDetector(detector)).rejects.toBeInstanceOf(ConflictException);
    expect(await c.getDetector(d.AnomalyDetectorArn)).toEqual(d);
    await expect(c.getDetector("arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:nope")).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("writes nothing for a bad request", async () => {
    const { catalog: c, records } = await catalog();
    await expect(c.createDetector({ ...detector, AnomalyDetectorName: "" })).rejects.toBeInstanceOf(ValidationException);
    const d = await c.createDetector(detector);
    await expect(c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, Offset: -5 }))).rejects.toBeInstanceOf(ValidationException);
    expect(await records.list("metricSets")).toEqual([]);
  });

  it("takes one metric set per detector, at the detector's frequency, with defaults filled in", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    await expect(c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, MetricSetFrequency: "P1D" }))).rejects.toMatchObject({ fields: [{ Name: "MetricSetFrequency" }] });
    const { MetricSetFrequency: _, ...withoutFrequency } = metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn });
    const m = await c.createMetricSet(withoutFrequency);
    expect(m).toMatchObject({ MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders", MetricSetFrequency: "PT1H", Offset: 0, Timezone: "UTC" });
    await expect(c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, MetricSetName: "other" }))).rejects.toBeInstanceOf(ServiceQuotaExceededException);
    await expect(c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:nope" }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("activates a detector only when it has a metric set", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    await expect(c.setDetectorStatus(d.AnomalyDetectorArn, "ACTIVE")).rejects.toBeInstanceOf(ValidationException);
    await c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn }));
    expect((await c.setDetectorStatus(d.AnomalyDetectorArn, "ACTIVE")).Status).toBe("ACTIVE");
  });

  it("creates alerts with L4M's default threshold and type", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    const a = await c.createAlert({ AlertName: "severe", AnomalyDetectorArn: d.AnomalyDetectorArn, Action: { LambdaConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", LambdaArn: "arn:aws:lambda:us-east-1:000000000000:function:f" } } });
    expect(a).toMatchObject({ AlertSensitivityThreshold: 70, AlertType: "LAMBDA", AlertStatus: "ACTIVE", AlertArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:severe" });
    expect(await c.listAlerts(d.AnomalyDetectorArn)).toEqual([a]);
  });
});
