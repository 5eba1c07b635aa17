import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chartValue, groupEvent, type RecentValues } from "../../../shared/detect/group-event.ts";
import { boundedGroup, carriedGroup, GROUP_SERIES_KEPT } from "../../../shared/incidents/bounded.ts";
import { advanceGroup, noMembers } from "../../../shared/incidents/grouping.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../../../shared/model/ids.ts";
import { anomalyOf, HOUR, T0 } from "../../builders.ts";

describe("chartValue", () => {
  it("keeps three decimals, and a small rate's own digits rather than 0", () => {
    expect(chartValue(1234.56789)).toBe(1234.568);
    expect(chartValue(-2.0004)).toBe(-2);
    expect(chartValue(0.00042137)).toBe(0.0004214);
    expect(chartValue(-0.000001234567)).toBe(-0.000001235);
    expect(chartValue(0)).toBe(0);
  });

  it("is within half a thousandth, or within 1/2000 of the value below one, and keeps its sign", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (x) => {
        const v = chartValue(x);
        expect(Math.abs(v - x)).toBeLessThanOrEqual(Math.abs(x) >= 1 ? 0.0005 + Math.abs(x) * Number.EPSILON * 4 : Math.abs(x) / 2000);
        expect(Math.sign(v) === Math.sign(x) || v === 0).toBe(true);
      }),
    );
  });
});

describe("an anomaly group's event", () => {
  it("names as relevant series only ones its stored record keeps, the largest deviations among them", () => {
    const metricSetArn = "arn:aws:lookoutmetrics:us-east-1:123456789012:MetricSet/shop/orders" as MetricSetArn;
    const ctx = { detectorArn: "arn:aws:lookoutmetrics:us-east-1:123456789012:AnomalyDetector:shop" as AnomalyDetectorArn, metricSetArn, dimensionNames: ["store"], intervalMs: HOUR };
    // 100 large stores, far off in money but within a few bands; 500 small ones, many bands off.
    const large = Array.from({ length: 100 }, (_, i) => anomalyOf({ metricSetArn, dimensions: [["store", `large-${i}`]], actual: 10_000 + i, expected: 1_000, band: 3_000 }));
    const small = Array.from({ length: GROUP_SERIES_KEPT }, (_, i) => anomalyOf({ metricSetArn, dimensions: [["store", `small-${i}`]], actual: 30 + i / 100, expected: 10, band: 1 }));
    const anomalies = [...large, ...small];
    const { changed: group } = advanceGroup(ctx, undefined, anomalies, { ...noMembers(), fresh: { revenue: anomalies.length } }, T0);
    const stored = boundedGroup(carriedGroup(group!));
    const recent: RecentValues = { intervalMs: HOUR, window: () => undefined };
    const named = groupEvent("AnomalyGroupChanged", stored, anomalies, recent, T0, group).summary.relevantTimeSeries;
    expect(named).toHaveLength(10);
    for (const series of named) expect(Object.keys(stored.impacts["revenue"]!.series)).toContain(series.timeSeriesId);
    expect(named.map((s) => s.dimensions[0]!.dimensionValue)).toEqual(Array.from({ length: 10 }, (_, i) => `small-${GROUP_SERIES_KEPT - 1 - i}`));
  });

  it("names the interval's own anomalies when the group grows only by series its full record does not keep", () => {
    const metricSetArn = "arn:aws:lookoutmetrics:us-east-1:123456789012:MetricSet/shop/orders" as MetricSetArn;
    const ctx = { detectorArn: "arn:aws:lookoutmetrics:us-east-1:123456789012:AnomalyDetector:shop" as AnomalyDetectorArn, metricSetArn, dimensionNames: ["store"], intervalMs: HOUR };
    const first = Array.from({ length: GROUP_SERIES_KEPT }, (_, i) => anomalyOf({ metricSetArn, dimensions: [["store", `s-${i}`]], actual: 100, expected: 10, band: 1 }));
    const opened = advanceGroup(ctx, undefined, first, { ...noMembers(), fresh: { revenue: first.length } }, T0);
    // An hour later 20 more stores, far off in money but fewer bands out than any the record keeps.
    const later = Array.from({ length: 20 }, (_, i) => anomalyOf({ metricSetArn, dimensions: [["store", `big-${i}`]], t: T0 + HOUR, actual: 1000, expected: 10, band: 99 }));
    const grown = advanceGroup(ctx, JSON.parse(JSON.stringify(carriedGroup(opened.open!))) as AnomalyGroupRecord, later, { ...noMembers(), fresh: { revenue: later.length } }, T0 + HOUR).changed!;
    const stored = boundedGroup(carriedGroup(grown));
    expect(Object.keys(stored.impacts["revenue"]!.series).some((id) => later.some((a) => a.timeSeriesId === id))).toBe(false);
    const named = groupEvent("AnomalyGroupChanged", stored, later, { intervalMs: HOUR, window: () => undefined }, T0 + HOUR, grown).summary.relevantTimeSeries;
    expect(named.map((s) => s.timeSeriesId)).toEqual(later.slice(0, 10).map((a) => a.timeSeriesId));
  });
});
