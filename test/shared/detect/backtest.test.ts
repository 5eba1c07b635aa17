import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backtest, backtestSlices, type BacktestOptions, type BacktestResult } from "../../../shared/detect/backtest.ts";
import { applyVerdict, scoreInterval } from "../../../shared/detect/score-interval.ts";
import { SeriesBank } from "../../../shared/engine/bank.ts";
import { advanceGroup, deviationOf, groupingContextOf, noMembers } from "../../../shared/incidents/grouping.ts";
import { rankGroups } from "../../../shared/incidents/ranking.ts";
import type { IntervalCells } from "../../../shared/ingest/aggregate.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import type { MetricSetArn } from "../../../shared/model/ids.ts";
import { HOUR, T0 } from "../../builders.ts";
import { noise } from "../engine/series.ts";

const metricSet = {
  MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/test/gaps" as MetricSetArn,
  AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:test" as never,
  MetricList: [{ MetricName: "views", AggregationFunction: "SUM" as const }],
  DimensionList: ["market"],
  MetricSetFrequency: "PT1H" as const,
};

/** Intervals of two markets' hourly views, at the given hours from T0: `spiked` hours are ten times their usual. */
function intervalsAt(hours: readonly number[], spiked: ReadonlySet<number> = new Set()): Map<number, IntervalCells> {
  const data = new Map<number, IntervalCells>();
  for (const h of hours) {
    const cell = (market: string, base: number) => ({ dimensions: [market], sums: [(base + 10 * noise(h)) * (spiked.has(h) ? 10 : 1)], counts: [1] });
    data.set(T0 + h * HOUR, new Map([["de", cell("de", 400)], ["fr", cell("fr", 300)]]));
  }
  return data;
}

/** The hours of runs of data after gaps, and those spiked: each run's `spike`-th, or its last when that is past its end. */
function hoursOf(parts: readonly { gap: number; run: number; spike: number | null }[]): [number[], Set<number>] {
  const hours: number[] = [];
  const spiked = new Set<number>();
  let h = 0;
  for (const { gap, run, spike } of parts) {
    h += gap;
    for (let i = 0; i < run; i++) hours.push(h + i);
    if (spike !== null) spiked.add(h + Math.min(spike, run - 1));
    h += run;
  }
  return [hours, spiked];
}

/** The back-test as it was first written: every interval from the first to the last walked, one by one. */
function walkedEveryInterval(data: Map<number, IntervalCells>, options: Pick<BacktestOptions, "from" | "review">): BacktestResult {
  const len = HOUR;
  const bank = new SeriesBank(len);
  const starts = [...data.keys()].sort((a, b) => a - b);
  const anomalies: BacktestResult["anomalies"][number][] = [];
  const groups = new Map<string, AnomalyGroupRecord>();
  const ctx = { ...groupingContextOf(metricSet), intervalMs: len };
  let open: AnomalyGroupRecord | undefined;
  let [learned, scored] = [0, 0];
  for (let t = starts[0]!; t <= starts.at(-1)!; t += len) {
    if (options.review?.at === t)
      for (const a of anomalies) {
        const isAnomaly = options.review.verdict(a);
        if (isAnomaly !== undefined) applyVerdict(bank, metricSet, { measure: a.measure, dimensions: a.dimensions, z: deviationOf(a), IsAnomaly: isAnomaly });
      }
    const learnOnly = options.from !== undefined && t < options.from;
    const members = noMembers();
    const found = scoreInterval(bank, metricSet, data.get(t), t, { learnOnly, members: { since: open?.startMs ?? NaN, tally: members } });
    if (learnOnly) learned++;
    else scored++;
    const advance = advanceGroup(ctx, open, found, members, t);
    open = advance.open;
    if (advance.changed) {
      groups.set(advance.changed.AnomalyGroupId, advance.changed);
      for (const a of found) anomalies.push({ ...a, anomalyGroupId: advance.changed.AnomalyGroupId });
    }
  }
  return { anomalies, groups: rankGroups([...groups.values()]), intervalsLearned: learned, intervalsScored: scored };
}

/** The intervals a back-test visits: with a pause after each, its pauses. */
function visits(data: Map<number, IntervalCells>, options: BacktestOptions = {}): { visited: number; result: BacktestResult } {
  const slices = backtestSlices(metricSet, { intervals: data }, { ...options, sliceIntervals: 1, slicePoints: Infinity });
  let visited = 1;
  let next = slices.next();
  for (; !next.done; next = slices.next()) visited++;
  return { visited, result: next.value };
}

describe("a back-test over history with gaps", () => {
  it("answers what walking every interval answers, gaps, reviews and the start of scoring anywhere (property)", () => {
    // Runs of hours with data between gaps; a spike now and then, often the last hour before a gap (a group open as it begins).
    const runs = fc.array(fc.record({ gap: fc.nat({ max: 40 }), run: fc.integer({ min: 1, max: 80 }), spike: fc.option(fc.nat({ max: 80 })) }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(runs, fc.integer({ min: -5, max: 300 }), fc.option(fc.integer({ min: -5, max: 700 })), fc.option(fc.nat({ max: 100_000 })), (parts, fromHour, reviewHour, far) => {
        const [hours, spiked] = hoursOf(parts);
        // A far-off row, as a mistyped timestamp makes.
        const data = intervalsAt(far === null ? hours : [...hours, hours.at(-1)! + 1 + far], spiked);
        const review = reviewHour === null ? {} : { review: { at: T0 + reviewHour * HOUR, verdict: (a: { score: number }) => (a.score < 90 ? false : undefined) } };
        const options = { from: T0 + fromHour * HOUR, ...review };
        expect(backtest(metricSet, { intervals: data }, options)).toEqual(walkedEveryInterval(data, options));
      }),
      { numRuns: 100 },
    );
  });

  it("raises and closes groups across gaps as walking every interval does", () => {
    // Anomalies just before gaps (a group open as the gap begins), and a review falling in a gap.
    const hours = [...Array.from({ length: 200 }, (_, h) => h), ...Array.from({ length: 100 }, (_, h) => 400 + h), 900, 901, 5000];
    const data = intervalsAt(hours, new Set([150, 199, 450, 499, 900]));
    const options = { from: T0 + 100 * HOUR, review: { at: T0 + 700 * HOUR, verdict: () => false } };
    const result = backtest(metricSet, { intervals: data }, options);
    expect(result.groups.length).toBeGreaterThanOrEqual(3);
    expect(result).toEqual(walkedEveryInterval(data, options));
  });

  it("visits the intervals with data, not every one of a far-off row's span, and counts them all", () => {
    const hours = [...Array.from({ length: 48 }, (_, h) => h), 100_000];
    const data = intervalsAt(hours);
    const told: number[] = [];
    const { visited, result } = visits(data, { from: T0 + 30 * HOUR, onProgress: (done) => told.push(done) });
    expect(visited).toBeLessThanOrEqual(2 * hours.length);
    expect(told).toEqual([0, 100_000]);
    expect(result).toMatchObject({ intervalsLearned: 30, intervalsScored: 100_001 - 30 });
    expect(result).toEqual(walkedEveryInterval(data, { from: T0 + 30 * HOUR }));
  });

  it("visits a row in the year 33658 as one interval more", () => {
    const far = 1e15;
    const data = intervalsAt(Array.from({ length: 48 }, (_, h) => h));
    data.set(far, intervalsAt([0]).get(T0)!);
    let told = 0;
    const { visited, result } = visits(data, { onProgress: () => told++ });
    expect(visited).toBeLessThanOrEqual(2 * 49);
    expect(told).toBeLessThanOrEqual(2);
    expect(result.intervalsLearned + result.intervalsScored).toBe(Math.floor((far - T0) / HOUR) + 1);
  });

  it("tells its progress every 500 intervals of data without gaps, as it walks them", () => {
    const told: number[] = [];
    backtest(metricSet, { intervals: intervalsAt(Array.from({ length: 1_200 }, (_, h) => h)) }, { onProgress: (done, total) => told.push(done, total) });
    expect(told).toEqual([0, 1_200, 500, 1_200, 1_000, 1_200]);
  });

  it("pauses after a bounded number of intervals visited, however few series they hold", () => {
    const data = intervalsAt(Array.from({ length: 100 }, (_, h) => h));
    const slices = backtestSlices(metricSet, { intervals: data }, { sliceIntervals: 10, slicePoints: Infinity });
    let pauses = 0;
    for (let next = slices.next(); !next.done; next = slices.next()) pauses++;
    expect(pauses).toBe(10);
  });
});
