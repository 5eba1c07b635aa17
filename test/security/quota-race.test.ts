import { describe, expect, it } from "vitest";
import { createAlert, createDetector, createMetricSet, listAlerts, listDetectors, listMetricSets, OPERATOR } from "../../shared/app/index.ts";
import { L4M_QUOTAS } from "../../shared/model/quotas.ts";
import { localAt, tempDir } from "../builders.ts";

/**
 * A quota was counted before a create and not after: creates sent at once each counted the
 * others' records as not yet there, so 40 CreateAnomalyDetector at once made 40 detectors
 * under a quota of 5, and a detector took several metric sets under L4M's quota of one.
 * However many race, none is kept past the quota, and each refused says which quota.
 */
describe("creates sent at once past a quota", () => {
  const quotas = { ...L4M_QUOTAS, detectorsPerAccount: 5, alertsPerDetector: 3 };
  const refusals = (results: PromiseSettledResult<unknown>[]) => results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as Error).name);

  it("keep none past it: detectors, a detector's metric sets and its alerts", async () => {
    const s = { ...localAt(await tempDir()), quotas };
    const detectors = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => createDetector(s, OPERATOR, { AnomalyDetectorName: `d${i}`, AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } })));
    const kept = await listDetectors(s, OPERATOR);
    expect(kept).toHaveLength(5);
    expect(refusals(detectors)).toEqual(Array.from({ length: 35 }, () => "ServiceQuotaExceededException"));

    const arn = kept[0]!.AnomalyDetectorArn;
    const sets = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => createMetricSet(s, OPERATOR, { AnomalyDetectorArn: arn, MetricSetName: `m${i}`, MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" }, MetricSource: { HttpPushConfig: {} } as never })),
    );
    expect(await listMetricSets(s, OPERATOR, arn)).toHaveLength(1);
    expect(refusals(sets)).toEqual(Array.from({ length: 19 }, () => "ServiceQuotaExceededException"));

    const alerts = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => createAlert(s, OPERATOR, { AlertName: `a${i}`, AnomalyDetectorArn: arn, AlertSensitivityThreshold: 50, Action: { WebhookConfiguration: { Url: "https://hooks.example.com/in" } } })));
    expect(await listAlerts(s, OPERATOR, arn)).toHaveLength(3);
    expect(refusals(alerts)).toEqual(Array.from({ length: 17 }, () => "ServiceQuotaExceededException"));
  });

  it("keep none past it when they come from several processes on one store (each its own services)", async () => {
    const dir = await tempDir();
    const processes = Array.from({ length: 4 }, () => ({ ...localAt(dir), quotas }));
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => createDetector(processes[i % 4]!, OPERATOR, { AnomalyDetectorName: `d${i}`, AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } })));
    const kept = await listDetectors(processes[0]!, OPERATOR);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(5);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(kept.length);
    expect(new Set(refusals(results))).toEqual(new Set(["ServiceQuotaExceededException"]));
  });
});
