import { describe, expect, it } from "vitest";
import { changePercent, contributionMatrix, primaryImpact, toAnomalyGroup, topContributors } from "../../../shared/incidents/contribution.ts";
import { advanceGroup, noMembers, seriesPeakOf, type MemberTally } from "../../../shared/incidents/grouping.ts";
import { rankGroups } from "../../../shared/incidents/ranking.ts";
import { relatedMetrics } from "../../../shared/incidents/related.ts";
import type { Anomaly, AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { timeSeriesId, type AnomalyDetectorArn, type MetricSetArn } from "../../../shared/model/ids.ts";
import { anomalyOf, HOUR, T0 } from "../../builders.ts";

const metricSetArn = "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders" as MetricSetArn;
const ctx = { detectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop" as AnomalyDetectorArn, metricSetArn, dimensionNames: ["marketplace", "platform"], intervalMs: HOUR };

function anomaly(p: { marketplace: string; platform: string; measure?: string; t?: number; actual: number; expected: number; score?: number }): Anomaly {
  return anomalyOf({ ...p, metricSetArn, dimensions: [["marketplace", p.marketplace], ["platform", p.platform]], band: 10 });
}

/** What an interval's series said of the open group's members (none of them anomalous or persisting unless told). */
const members = (p: Partial<MemberTally> = {}): MemberTally => ({ ...noMembers(), ...p });

/** The group that took an interval's anomalies, when nothing persists. */
const groupInterval = (open: AnomalyGroupRecord | undefined, anomalies: Anomaly[], t: number) => advanceGroup(ctx, open, anomalies, members(), t).changed;

describe("grouping", () => {
  it("groups the same and consecutive intervals and starts anew after a quiet one", () => {
    const g1 = groupInterval(undefined, [anomaly({ marketplace: "de", platform: "web", actual: 10, expected: 100 })], T0)!;
    const g2 = groupInterval(g1, [anomaly({ marketplace: "de", platform: "app", actual: 20, expected: 100, t: T0 + HOUR })], T0 + HOUR)!;
    expect(g2.AnomalyGroupId).toBe(g1.AnomalyGroupId);
    expect(g2.endMs).toBe(T0 + HOUR);
    expect(g2.anomalyCount).toBe(2);
    expect(g1.anomalyCount).toBe(1); // the open group is not mutated
    expect(advanceGroup(ctx, g2, [], members(), T0 + 2 * HOUR)).toEqual({ open: undefined, changed: undefined, ended: g2 });
    const g3 = groupInterval(undefined, [anomaly({ marketplace: "de", platform: "web", actual: 10, expected: 100, t: T0 + 3 * HOUR })], T0 + 3 * HOUR)!;
    expect(g3.AnomalyGroupId).not.toBe(g1.AnomalyGroupId);
  });

  it("stays open while one of its series still deviates, takes that series' later anomalies, and its severity follows the worst", () => {
    const first = anomaly({ marketplace: "de", platform: "web", actual: 10, expected: 100, score: 75 });
    const g1 = groupInterval(undefined, [first], T0)!;
    const held = advanceGroup(ctx, g1, [], members({ persisting: 1 }), T0 + HOUR);
    expect(held).toEqual({ open: g1, changed: undefined, ended: undefined });
    const worse = advanceGroup(ctx, held.open, [anomaly({ marketplace: "de", platform: "web", actual: 1, expected: 100, score: 96, t: T0 + 2 * HOUR })], members({ returning: 1 }), T0 + 2 * HOUR);
    expect(worse.changed!.AnomalyGroupId).toBe(g1.AnomalyGroupId);
    expect(worse.changed!.score).toBe(96);
    expect(worse.changed!.revision).toBe(g1.revision + 1);
    const calmer = advanceGroup(ctx, worse.open, [anomaly({ marketplace: "de", platform: "web", actual: 60, expected: 100, score: 71, t: T0 + 3 * HOUR })], members({ returning: 1 }), T0 + 3 * HOUR);
    expect(calmer.changed!.score).toBe(96);
  });

  it("ends a held group when another series deviates after a quiet interval, and starts a new one for it", () => {
    const first = anomaly({ marketplace: "de", platform: "web", actual: 10, expected: 100 });
    const g1 = groupInterval(undefined, [first], T0)!;
    const held = advanceGroup(ctx, g1, [], members({ persisting: 1 }), T0 + HOUR);
    const other = advanceGroup(ctx, held.open, [anomaly({ marketplace: "fr", platform: "app", actual: 10, expected: 100, t: T0 + 2 * HOUR })], members({ persisting: 1, fresh: { revenue: 1 } }), T0 + 2 * HOUR);
    expect(other.ended).toBe(g1);
    expect(other.changed!.AnomalyGroupId).not.toBe(g1.AnomalyGroupId);
    expect(other.changed!.startMs).toBe(T0 + 2 * HOUR);
  });

  it("keeps each series' largest deviation, signed, in units of its scale; a measure stored without them gains none", () => {
    // Bands of ±10, so one scale is 2.
    const web = (actual: number, h: number) => anomaly({ marketplace: "de", platform: "web", actual, expected: 100, t: T0 + h * HOUR });
    const app = (actual: number, h: number) => anomaly({ marketplace: "de", platform: "app", actual, expected: 100, t: T0 + h * HOUR });
    let g = groupInterval(undefined, [web(10, 0), app(130, 0)], T0)!;
    g = groupInterval(g, [web(1, 1), app(76, 1)], T0 + HOUR)!;
    g = groupInterval(g, [web(60, 2)], T0 + 2 * HOUR)!;
    expect([seriesPeakOf(g.impacts["revenue"]!, web(0, 0).timeSeriesId), seriesPeakOf(g.impacts["revenue"]!, app(0, 0).timeSeriesId)]).toEqual([-49.5, 15]);
    // Kept in the order of the measure's series, through JSON as a record store keeps it.
    const read = JSON.parse(JSON.stringify(g)) as AnomalyGroupRecord;
    expect(Object.keys(read.impacts["revenue"]!.series)).toEqual([web(0, 0).timeSeriesId, app(0, 0).timeSeriesId]);
    expect(read.impacts["revenue"]!.seriesPeak).toEqual([-49.5, 15]);
    // Out of step with its series (not as detection writes it), it is not used, and dropped when the group grows.
    const askew = structuredClone(g);
    askew.impacts["revenue"]!.seriesPeak!.pop();
    expect(seriesPeakOf(askew.impacts["revenue"]!, web(0, 0).timeSeriesId)).toBeUndefined();
    expect(groupInterval(askew, [web(50, 3)], T0 + 3 * HOUR)!.impacts["revenue"]!.seriesPeak).toBeUndefined();
    const stored = structuredClone(g);
    delete stored.impacts["revenue"]!.seriesPeak;
    const later = groupInterval(stored, [web(0, 3), anomaly({ marketplace: "de", platform: "web", measure: "views", actual: 200, expected: 100, t: T0 + 3 * HOUR })], T0 + 3 * HOUR)!;
    expect(later.impacts["revenue"]!.seriesPeak).toBeUndefined();
    expect(later.impacts["views"]!.seriesPeak).toEqual([50]);
  });

  it("mints the same group id for the same metric set and start, so re-runs agree", () => {
    const a = [anomaly({ marketplace: "de", platform: "web", actual: 10, expected: 100 })];
    expect(groupInterval(undefined, a, T0)!.AnomalyGroupId).toBe(groupInterval(undefined, a, T0)!.AnomalyGroupId);
    expect(groupInterval(undefined, a, T0)!.AnomalyGroupId).toMatch(/^[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}$/);
  });
});

describe("contribution", () => {
  it("gives the dimension value carrying the deviation its share of it", () => {
    const g = groupInterval(undefined, [
      anomaly({ marketplace: "de", platform: "web", actual: 20, expected: 100 }),
      anomaly({ marketplace: "de", platform: "app", actual: 40, expected: 100 }),
      anomaly({ marketplace: "fr", platform: "web", actual: 80, expected: 100 }),
    ], T0)!;
    const impact = g.impacts["revenue"]!;
    expect(contributionMatrix(impact, ctx.dimensionNames).DimensionContributionList).toEqual([
      { DimensionName: "marketplace", DimensionValueContributionList: [{ DimensionValue: "de", ContributionScore: 87.5 }, { DimensionValue: "fr", ContributionScore: 12.5 }] },
      { DimensionName: "platform", DimensionValueContributionList: [{ DimensionValue: "web", ContributionScore: 62.5 }, { DimensionValue: "app", ContributionScore: 37.5 }] },
    ]);
    expect(topContributors(impact, ctx.dimensionNames)[0]).toEqual({ name: "marketplace", value: "de", share: 87.5 });
    expect(changePercent(impact)).toBeCloseTo(-160 / 3, 6);
  });

  it("takes any dimension value the data holds as a key like any other, even one every object inherits, and over intervals", () => {
    const values = ["constructor", "__proto__", "toString"];
    // `__proto__` comes only once the group has been read back.
    let g = groupInterval(undefined, values.filter((v) => v !== "__proto__").map((v) => anomaly({ marketplace: v, platform: "web", actual: 50, expected: 100 })), T0)!;
    // Stored and read back between the intervals, as detection keeps its open group.
    g = groupInterval(JSON.parse(JSON.stringify(g)) as AnomalyGroupRecord, values.map((v) => anomaly({ marketplace: v, platform: "web", actual: 50, expected: 100, t: T0 + HOUR })), T0 + HOUR)!;
    const [marketplace] = contributionMatrix(g.impacts["revenue"]!, ctx.dimensionNames).DimensionContributionList;
    expect(marketplace!.DimensionValueContributionList).toEqual([
      { DimensionValue: "constructor", ContributionScore: 40 },
      { DimensionValue: "toString", ContributionScore: 40 },
      { DimensionValue: "__proto__", ContributionScore: 20 },
    ]);
    expect(Object.prototype.toString).not.toHaveProperty("web");
  });

  it("leads with the measure that scored highest, then the one furthest out", () => {
    const g = groupInterval(undefined, [
      anomaly({ marketplace: "de", platform: "web", measure: "views", actual: 50, expected: 100, score: 100 }),
      anomaly({ marketplace: "de", platform: "web", measure: "revenue", actual: 90, expected: 100, score: 100 }),
    ], T0)!;
    expect(primaryImpact(g).measure).toBe("views");
    const l4m = toAnomalyGroup(g);
    expect(l4m).toMatchObject({ PrimaryMetricName: "views", StartTime: "2021-01-04T00:00:00Z", EndTime: "2021-01-04T00:00:00Z", AnomalyGroupScore: 100 });
    expect(l4m.MetricLevelImpactList.map((m) => [m.MetricName, m.NumTimeSeries])).toEqual([["views", 1], ["revenue", 1]]);
  });
});

describe("ranking", () => {
  it("ranks by severity, then breadth, then start", () => {
    const make = (t: number, scores: number[]) => groupInterval(undefined, scores.map((score, i) => anomaly({ marketplace: `m${i}`, platform: "web", actual: 1, expected: 100, score, t })), t)!;
    const mild = make(T0, [60]);
    const wide = make(T0 + 5 * HOUR, [95, 95]);
    const narrow = make(T0 + 9 * HOUR, [95]);
    const early = make(T0 - 9 * HOUR, [95]);
    expect(rankGroups<AnomalyGroupRecord>([mild, narrow, wide, early]).map((g) => g.startMs)).toEqual([wide.startMs, early.startMs, narrow.startMs, mild.startMs]);
  });
});

describe("related metrics", () => {
  it("names the group's other measures with their share and whether they began first, and overlapping groups of another measure", () => {
    const first = groupInterval(undefined, [anomaly({ marketplace: "de", platform: "web", measure: "views", actual: 50, expected: 100, score: 80 })], T0)!;
    const group = groupInterval(first, [
      anomaly({ marketplace: "de", platform: "web", actual: 10, expected: 100, score: 95, t: T0 + HOUR }),
      anomaly({ marketplace: "de", platform: "app", actual: 10, expected: 100, score: 90, t: T0 + HOUR }),
    ], T0 + HOUR)!;
    const otherSet = { ...ctx, metricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/payments" as MetricSetArn };
    const payments = advanceGroup(otherSet, undefined, [anomaly({ marketplace: "de", platform: "web", measure: "failures", actual: 300, expected: 100, t: T0 + HOUR })], members(), T0 + HOUR).changed!;
    const later = advanceGroup(otherSet, undefined, [anomaly({ marketplace: "de", platform: "web", measure: "failures", actual: 300, expected: 100, t: T0 + 9 * HOUR })], members(), T0 + 9 * HOUR).changed!;

    expect(primaryImpact(group).measure).toBe("revenue");
    expect(relatedMetrics(group, [group, payments, later], HOUR)).toEqual([
      // views: 50 off a band of 20 (2.5) against revenue's 2 × 90 (9): 22 % of the group's strength, an hour earlier
      { MetricName: "views", AnomalyGroupId: group.AnomalyGroupId, RelationshipType: "CAUSE_OF_INPUT_ANOMALY_GROUP", ContributionPercentage: 22 },
      // failures began with revenue (an effect: the primary measure leads), for one of the group's two hours
      { MetricName: "failures", AnomalyGroupId: payments.AnomalyGroupId, RelationshipType: "EFFECT_OF_INPUT_ANOMALY_GROUP", ContributionPercentage: 50 },
    ]);
  });
});
