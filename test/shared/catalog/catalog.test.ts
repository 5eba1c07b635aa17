import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Catalog } from "../../../shared/catalog/catalog.ts";
import { ConflictException, ResourceNotFoundException, ServiceQuotaExceededException, ValidationException } from "../../../shared/model/errors.ts";
import { LOCAL_ARN_SCOPE, type AnomalyDetectorArn } from "../../../shared/model/ids.ts";
import { SqliteRecordStore } from "../../../shared/store/sqlite-records.ts";
import type { Table } from "../../../shared/store/records.ts";
import { L4M_QUOTAS, QUOTA_CODES } from "../../../shared/model/quotas.ts";
import { latch, metricSetRequest, T0, tempDir } from "../../builders.ts";

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

  it("refuses an UpdateMetricSet naming a frequency other than the one kept, as CreateMetricSet does, and changes nothing", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    const m = await c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn }));
    await expect(c.updateMetricSet({ MetricSetArn: m.MetricSetArn, MetricSetFrequency: "P1D", MetricSetDescription: "daily now" })).rejects.toMatchObject({ name: "ValidationException", fields: [{ Name: "MetricSetFrequency" }] });
    expect(await c.getMetricSet(m.MetricSetArn)).toEqual(m);
    expect((await c.updateMetricSet({ MetricSetArn: m.MetricSetArn, MetricSetFrequency: "PT1H", MetricSetDescription: "hourly" })).MetricSetDescription).toBe("hourly");
  });

  it("activates or back-tests a detector only when it has a metric set", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    await expect(c.setDetectorStatus(d.AnomalyDetectorArn, "ACTIVATING")).rejects.toBeInstanceOf(ValidationException);
    await expect(c.setDetectorStatus(d.AnomalyDetectorArn, "BACK_TEST_ACTIVATING")).rejects.toBeInstanceOf(ValidationException);
    expect((await c.getDetector(d.AnomalyDetectorArn)).Status).toBe("INACTIVE");
    await c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn }));
    expect((await c.setDetectorStatus(d.AnomalyDetectorArn, "ACTIVATING")).Status).toBe("ACTIVATING");
  });

  it("answers L4M's quotas with ServiceQuotaExceededException naming the quota, unless configured higher", async () => {
    const { catalog: c } = await catalog();
    for (let i = 0; i < L4M_QUOTAS.detectorsPerAccount; i++) await c.createDetector({ ...detector, AnomalyDetectorName: `d${i}` });
    await expect(c.createDetector(detector)).rejects.toMatchObject({ code: "ServiceQuotaExceededException", quotaCode: QUOTA_CODES.detectorsPerAccount });
    const arn = (await c.listDetectors())[0]!.AnomalyDetectorArn;
    const six = Array.from({ length: 6 }, (_, i) => ({ MetricName: `m${i}`, AggregationFunction: "SUM" as const }));
    await expect(c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: arn, MetricList: six }))).rejects.toMatchObject({ quotaCode: QUOTA_CODES.measuresPerMetricSet });
    await expect(c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: arn, DimensionList: ["a", "b", "c", "d", "e", "f"] }))).rejects.toMatchObject({ quotaCode: QUOTA_CODES.dimensionsPerMetricSet });
    expect(await c.listMetricSets(arn)).toEqual([]);
    const alert = (n: number) => ({ AlertName: `a${n}`, AnomalyDetectorArn: arn, AlertSensitivityThreshold: 50, Action: { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:t" } } });
    for (let i = 0; i < L4M_QUOTAS.alertsPerDetector; i++) await c.createAlert(alert(i));
    await expect(c.createAlert(alert(99))).rejects.toMatchObject({ quotaCode: QUOTA_CODES.alertsPerDetector });

    const records = SqliteRecordStore.open(join(await tempDir(), "roomy.db"), { now: () => T0 });
    const roomy = new Catalog({ records, scope: LOCAL_ARN_SCOPE, now: () => T0, quotas: { ...L4M_QUOTAS, measuresPerMetricSet: 6 } });
    const d = await roomy.createDetector(detector);
    expect((await roomy.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, MetricList: six }))).MetricList).toHaveLength(6);
  });

  it("keeps a failure's type and reason until the next change", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    await c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn }));
    const failed = await c.setDetectorStatus(d.AnomalyDetectorArn, "FAILED", { FailureType: "ACTIVATION_FAILURE", FailureReason: "no such folder" });
    expect(failed).toMatchObject({ Status: "FAILED", FailureType: "ACTIVATION_FAILURE", FailureReason: "no such folder" });
    const again = await c.setDetectorStatus(d.AnomalyDetectorArn, "ACTIVATING");
    expect(again.FailureReason).toBeUndefined();
    expect(again.FailureType).toBeUndefined();
  });

  it("moves a detector's status only from the statuses named, and never another tenant's detector", async () => {
    const { catalog: c, records } = await catalog();
    const d = await c.createDetector(detector);
    await c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn }));
    expect(await c.moveDetectorStatus(d, ["BACK_TEST_ACTIVE"], "BACK_TEST_COMPLETE")).toBe(false);
    expect((await c.getDetector(d.AnomalyDetectorArn)).Status).toBe("INACTIVE");
    await c.setDetectorStatus(d.AnomalyDetectorArn, "FAILED", { FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: "before" });
    expect(await c.moveDetectorStatus(d, ["FAILED"], "BACK_TEST_ACTIVE")).toBe(true);
    // As a plain status change: the failure of the status before goes.
    const moved = await c.getDetector(d.AnomalyDetectorArn);
    expect([moved.Status, moved.FailureType, moved.FailureReason]).toEqual(["BACK_TEST_ACTIVE", undefined, undefined]);
    // A second tenant, naming the first one's detector, moves nothing.
    const other = new Catalog({ records, scope: { ...LOCAL_ARN_SCOPE, accountId: "123456789012" }, now: () => T0 });
    expect(await other.moveDetectorStatus(d, ["BACK_TEST_ACTIVE"], "FAILED")).toBe(false);
    expect((await c.getDetector(d.AnomalyDetectorArn)).Status).toBe("BACK_TEST_ACTIVE");
    expect(await c.moveDetectorStatus({ ...d, AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:gone" as AnomalyDetectorArn }, ["BACK_TEST_ACTIVE"], "FAILED")).toBe(false);
  });

  it("never moves a detector made again under the same name: work that read the one before moves nothing", async () => {
    let now = T0;
    const records = SqliteRecordStore.open(join(await tempDir(), "records.db"), { now: () => T0 });
    const c = new Catalog({ records, scope: LOCAL_ARN_SCOPE, now: () => now });
    const before = await c.createDetector(detector);
    await c.markDeleting(before.AnomalyDetectorArn);
    await c.deleteDetector(before.AnomalyDetectorArn);
    now += 1_000;
    const again = await c.createDetector(detector);
    await c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: again.AnomalyDetectorArn }));
    await c.setDetectorStatus(again.AnomalyDetectorArn, "ACTIVATING");
    expect(await c.moveDetectorStatus(before, ["ACTIVATING"], "ACTIVE")).toBe(false);
    expect((await c.getDetector(again.AnomalyDetectorArn)).Status).toBe("ACTIVATING");
    expect(await c.moveDetectorStatus(again, ["ACTIVATING"], "ACTIVE")).toBe(true);
  });

  it("creates alerts with L4M's default threshold and type", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    const a = await c.createAlert({ AlertName: "severe", AnomalyDetectorArn: d.AnomalyDetectorArn, Action: { LambdaConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", LambdaArn: "arn:aws:lambda:us-east-1:000000000000:function:f" } } });
    expect(a).toMatchObject({ AlertSensitivityThreshold: 70, AlertType: "LAMBDA", AlertStatus: "ACTIVE", AlertArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:severe" });
    expect(await c.listAlerts(d.AnomalyDetectorArn)).toEqual([a]);
  });
});

describe("a detector deleted while something is made in it", () => {
  const slowCreates = (records: SqliteRecordStore, table: string, landed: Promise<void>) =>
    new Proxy(records, {
      get: (target, key) =>
        key === "create"
          ? async (...args: Parameters<SqliteRecordStore["create"]>) => {
              if (args[0] === table) await landed;
              return target.create(...args);
            }
          : Reflect.get(target, key, target),
    });

  for (const [kind, table, make] of [
    ["an alert", "alerts", (c: Catalog, arn: string) => c.createAlert({ AlertName: "page-oncall", AnomalyDetectorArn: arn, AlertSensitivityThreshold: 50, Action: { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:old-team", SnsFormat: "JSON" } } })],
    ["a metric set", "metricSets", (c: Catalog, arn: string) => c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: arn }))],
  ] as const) {
    it(`takes ${kind} made after the deletion listed what to delete back, so a detector made again under the name does not inherit it`, async () => {
      const { records, catalog: c } = await catalog();
      const old = await c.createDetector(detector);
      const { done: landed, open: land } = latch();
      // The request found the detector; its write lands after the deletion listed the detector's children.
      const slow = new Catalog({ records: slowCreates(records, table, landed), scope: LOCAL_ARN_SCOPE, now: () => T0 });
      const made = make(slow, old.AnomalyDetectorArn);
      await new Promise((r) => setTimeout(r, 20));
      await c.markDeleting(old.AnomalyDetectorArn);
      await expect(make(c, old.AnomalyDetectorArn)).rejects.toMatchObject({ name: "ConflictException", message: expect.stringMatching(/is being deleted/) });
      await expect(c.setDetectorStatus(old.AnomalyDetectorArn, "DEACTIVATED")).rejects.toBeInstanceOf(ConflictException);
      await c.deleteDetector(old.AnomalyDetectorArn);
      land();
      await expect(made).rejects.toBeInstanceOf(ResourceNotFoundException);
      const fresh = await c.createDetector(detector);
      expect(await c.listAlerts(fresh.AnomalyDetectorArn)).toEqual([]);
      expect(await c.listMetricSets(fresh.AnomalyDetectorArn)).toEqual([]);
    });
  }

  it("is not marked while it runs, and is deleted only once marked", async () => {
    const { catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    await c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn }));
    await c.setDetectorStatus(d.AnomalyDetectorArn, "ACTIVATING");
    await expect(c.markDeleting(d.AnomalyDetectorArn)).rejects.toMatchObject({ name: "ConflictException", message: expect.stringMatching(/deactivate it first/) });
    await expect(c.deleteDetector(d.AnomalyDetectorArn)).rejects.toBeInstanceOf(ConflictException);
    expect((await c.getDetector(d.AnomalyDetectorArn)).Status).toBe("ACTIVATING");
  });
});

describe("a detector's frequency changed while its metric set is made", () => {
  /** The store with `table`'s writes of `op` held until `landed`, from the `from`th on (the first, unless told). */
  const held = (records: SqliteRecordStore, op: "create" | "update", table: string, landed: Promise<void>, from = 1) => {
    let writes = 0;
    return new Proxy(records, {
      get: (target, key) =>
        key === op
          ? async (...args: [Table, string, never]) => {
              if (args[0] === table && ++writes >= from) await landed;
              return (target[op] as (...a: typeof args) => Promise<unknown>)(...args);
            }
          : Reflect.get(target, key, target),
    });
  };
  const hourly = (arn: string) => metricSetRequest({ AnomalyDetectorArn: arn, MetricSetFrequency: undefined });
  /** Every metric set runs at its detector's frequency, whichever call won. */
  const agreed = async (c: Catalog, arn: string) => {
    const frequency = (await c.getDetector(arn)).AnomalyDetectorConfig.AnomalyDetectorFrequency;
    expect((await c.listMetricSets(arn)).map((m) => m.MetricSetFrequency).filter((f) => f !== frequency)).toEqual([]);
  };

  it("takes the metric set back when the frequency changed after the metric set read it", async () => {
    const { records, catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    const { done: landed, open: land } = latch();
    const slow = new Catalog({ records: held(records, "create", "metricSets", landed), scope: LOCAL_ARN_SCOPE, now: () => T0 });
    const made = slow.createMetricSet(hourly(d.AnomalyDetectorArn)).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    await c.updateDetector({ AnomalyDetectorArn: d.AnomalyDetectorArn, AnomalyDetectorConfig: { AnomalyDetectorFrequency: "P1D" } });
    land();
    expect(await made).toBeInstanceOf(ConflictException);
    await agreed(c, d.AnomalyDetectorArn);
  });

  it("keeps the frequency when a metric set was made after the update found none", async () => {
    const { records, catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    const { done: landed, open: land } = latch();
    const slow = new Catalog({ records: held(records, "update", "detectors", landed), scope: LOCAL_ARN_SCOPE, now: () => T0 });
    const updated = slow.updateDetector({ AnomalyDetectorArn: d.AnomalyDetectorArn, AnomalyDetectorConfig: { AnomalyDetectorFrequency: "P1D" } }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    await c.createMetricSet(hourly(d.AnomalyDetectorArn));
    land();
    expect(await updated).toMatchObject({ name: "ValidationException", fields: [{ Name: "AnomalyDetectorConfig.AnomalyDetectorFrequency" }] });
    await agreed(c, d.AnomalyDetectorArn);
    expect((await c.getDetector(d.AnomalyDetectorArn)).AnomalyDetectorConfig.AnomalyDetectorFrequency).toBe("PT1H");
  });

  it("keeps another update's frequency, and the metric set made at it, when an update of its own finishes after them", async () => {
    const { records, catalog: c } = await catalog();
    const d = await c.createDetector(detector);
    const { done: landed, open: land } = latch();
    // The slow update's first write to the detector (its frequency) lands at once; its last (the description) waits.
    const slow = new Catalog({ records: held(records, "update", "detectors", landed, 2), scope: LOCAL_ARN_SCOPE, now: () => T0 });
    const updated = slow.updateDetector({ AnomalyDetectorArn: d.AnomalyDetectorArn, AnomalyDetectorDescription: "daily", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "P1D" } });
    await new Promise((r) => setTimeout(r, 20));
    await c.updateDetector({ AnomalyDetectorArn: d.AnomalyDetectorArn, AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT10M" } });
    await c.createMetricSet(metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, MetricSetFrequency: "PT10M" }));
    land();
    await updated;
    await agreed(c, d.AnomalyDetectorArn);
    expect(await c.getDetector(d.AnomalyDetectorArn)).toMatchObject({ AnomalyDetectorDescription: "daily", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT10M" } });
  });
});
