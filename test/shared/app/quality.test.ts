import { describe, expect, it } from "vitest";
import { dataQuality, rejectedRows } from "../../../shared/app/index.ts";
import { ResourceNotFoundException } from "../../../shared/model/errors.ts";
import { HOUR } from "../../builders.ts";
import { LIVE, shop } from "./shop.ts";

describe("data quality: rejected rows by reason, and the rows themselves", () => {
  it("counts an interval's rejected rows by reason and answers them with their reasons, to the scope only", async () => {
    const s = await shop(6, { badRowAt: 2 });
    const sets = (await dataQuality(s.services, s.scope, s.detectorArn))[0]!;
    const bad = sets.intervals.find((q) => Date.parse(q.intervalStart) === LIVE + 2 * HOUR)!;
    const byReason = Object.entries(bad.rejectsByReason).filter(([, n]) => n > 0);
    expect(byReason.reduce((n, [, k]) => n + k, 0)).toBe(bad.rowsRejected + bad.rowsPartial);
    const rows = await rejectedRows(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, Timestamp: LIVE + 2 * HOUR + 60_000 });
    expect(rows.length).toBe(2);
    expect(new Set(rows.map((r) => r.reason))).toEqual(new Set(byReason.map(([r]) => r)));
    expect(rows.find((r) => r.detail.includes("lots"))).toBeDefined();
    expect(await rejectedRows(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, Timestamp: LIVE + HOUR })).toEqual([]);
    await expect(rejectedRows(s.services, { tenant: "other", accountId: "123456789012" }, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, Timestamp: LIVE + 2 * HOUR })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(rejectedRows(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn.replace("orders", "nope"), Timestamp: LIVE })).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
