import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BAND_Z } from "../../../shared/engine/calibration.ts";
import { boundedGroup, carriedGroup } from "../../../shared/incidents/bounded.ts";
import { groupEvent } from "../../../shared/detect/group-event.ts";
import { advanceGroup, noMembers } from "../../../shared/incidents/grouping.ts";
import type { Anomaly, AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../../../shared/model/ids.ts";
import { anomalyOf, carriedFold, HOUR, T0 } from "../../builders.ts";

const metricSetArn = "arn:aws:lookoutmetrics:us-east-1:123456789012:MetricSet/shop/orders" as MetricSetArn;
const ctx = (dimensionNames: readonly string[]) => ({ detectorArn: "arn:aws:lookoutmetrics:us-east-1:123456789012:AnomalyDetector:shop" as AnomalyDetectorArn, metricSetArn, dimensionNames, intervalMs: HOUR });

/** An anomaly of `measure` with dimensions `pairs`, `dev` off an expected 1000 (band 10·BAND_Z). */
const anomaly = (measure: string, pairs: readonly (readonly [string, string])[], dev: number, t: number): Anomaly => anomalyOf({ metricSetArn, measure, dimensions: pairs, t, actual: 1000 + dev, expected: 1000, band: BAND_Z * 10 });

/** The whole group: every series and value, nothing let go of between intervals. */
function wholeFold(intervals: readonly (readonly Anomaly[])[], names: readonly string[]): AnomalyGroupRecord {
  let open: AnomalyGroupRecord | undefined;
  intervals.forEach((anomalies, k) => (open = advanceGroup(ctx(names), open, anomalies, noMembers(), T0 + k * HOUR).changed ?? open));
  return open!;
}

const none = { intervalMs: HOUR, window: () => undefined };
const affectedOf = (record: AnomalyGroupRecord, whole: AnomalyGroupRecord) => groupEvent("AnomalyGroupChanged", record, [], none, T0, whole).summary.affected;

describe("the group the model carries (carriedGroup)", () => {
  it("is itself once carried, read back from JSON, even where a dimension's ten largest values pass its bytes", () => {
    // 1 measure, 3 dimensions: one of 12 values of 600,000 characters, the largest (the ten largest pass 4 MB), and a short one; one of 20,000 short values; one of 3,000 values of 1,000.
    const names = ["big", "many", "long"];
    const huge = Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(600_000, "b"));
    const long = Array.from({ length: 3000 }, (_, i) => `${i}`.padEnd(1000, "l"));
    const anomalies = Array.from({ length: 20_000 }, (_, i) => anomaly("revenue", [["big", i < 12 ? huge[i]! : "s"], ["many", `m${i}`], ["long", long[i % 3000]!]], i < 12 ? 5000 : 1 + (i % 97), T0));
    const grown = advanceGroup(ctx(names), undefined, anomalies, noMembers(), T0).changed!;
    const carried = carriedGroup(grown);
    expect(boundedGroup(carried)).toEqual(boundedGroup(grown));
    expect(carried).not.toBe(grown);
    const read = JSON.parse(JSON.stringify(carried)) as AnomalyGroupRecord;
    expect(carriedGroup(read)).toBe(read);
    const impact = read.impacts["revenue"]!;
    expect(Object.keys(impact.deviation["big"]!)).toHaveLength(10);
    // Within 4 MB but for the ten forced: the other dimensions kept what the bytes left them.
    const bytes = (name: string) => Object.keys(impact.deviation[name]!).reduce((s, v) => s + Buffer.byteLength(JSON.stringify(v)) + 26, 0);
    expect(bytes("many") + bytes("long")).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it("is itself once carried, read back from JSON, for random groups (property)", () => {
    let cut = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 1200 }), fc.integer({ min: 3000, max: 8000 }), fc.double({ min: -50, max: 50, noNaN: true })), { minLength: 800, maxLength: 1200, size: "max" }), fc.integer({ min: 1, max: 3 }), (rows, measures) => {
        const names = ["a", "b"];
        const anomalies = rows.map(([s, v, len, dev], i) => anomaly(`m${i % measures}`, [["a", `s${s}`], ["b", `${v}`.padEnd(len, "x")]], dev === 0 ? 1 : dev, T0));
        const g = advanceGroup(ctx(names), undefined, anomalies, noMembers(), T0).changed!;
        expect(boundedGroup(carriedGroup(g))).toEqual(boundedGroup(g));
        const once = JSON.parse(JSON.stringify(carriedGroup(g))) as AnomalyGroupRecord;
        expect(carriedGroup(once)).toBe(once);
        if (Object.values(once.impacts).some((i) => i.deviationTotal?.["b"] !== undefined)) cut++;
      }),
      { numRuns: 20 },
    );
    expect(cut).toBeGreaterThan(3);
  });

  it("makes the record the whole group makes, over intervals, where no dimension passes its values' bounds (property)", () => {
    // Up to 1,800 series of two measures (past the 500 a measure keeps), returning in later intervals more or less severe.
    const interval = fc.array(fc.tuple(fc.integer({ min: 0, max: 1799 }), fc.oneof(fc.double({ min: 0.5, max: 40, noNaN: true }), fc.constantFrom(1, 2, 3)), fc.boolean()), { minLength: 600, maxLength: 1400, size: "max" });
    let cut = 0;
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 4 }), (intervals) => {
        const names = ["region", "host"];
        const made = intervals.map((rows, k) => {
          const bySeries = new Map(rows.map(([s, dev, down]) => [s, down ? -dev : dev] as const));
          return [...bySeries].map(([s, dev]) => anomaly(s % 2 ? "orders" : "revenue", [["region", `r${s % 7}`], ["host", `h${s}`]], dev, T0 + k * HOUR));
        });
        const whole = wholeFold(made, names);
        const { grown } = carriedFold(ctx(names), made);
        if (Object.keys(whole.impacts["revenue"]?.series ?? {}).length > 500) cut++;
        expect(boundedGroup(grown)).toEqual(boundedGroup(whole));
        expect(boundedGroup(carriedGroup(grown))).toEqual(boundedGroup(grown));
        expect(affectedOf(boundedGroup(grown), grown)).toEqual(affectedOf(boundedGroup(whole), whole));
      }),
      { numRuns: 25 },
    );
    expect(cut).toBeGreaterThan(5);
  });
});
