import { SeriesBank } from "../engine/bank.ts";
import { cellsAt, type Aggregation } from "../ingest/aggregate.ts";
import { advanceGroup, deviationOf, groupingContextOf, noMembers } from "../incidents/grouping.ts";
import { rankGroups } from "../incidents/ranking.ts";
import type { Anomaly, AnomalyGroupRecord } from "../model/anomaly.ts";
import { intervalMs } from "../model/frequency.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { applyVerdict, scoreInterval } from "./score-interval.ts";

export interface BacktestResult {
  readonly anomalies: (Anomaly & { readonly anomalyGroupId: string })[];
  /** Ranked, most severe first. */
  readonly groups: AnomalyGroupRecord[];
  readonly intervalsLearned: number;
  readonly intervalsScored: number;
}

/**
 * Runs a metric set over history already read and aggregated: intervals before `from`
 * only teach the model; from `from` on, each interval is scored causally, in order, and
 * grouped. Empty intervals are walked too, so a quiet interval closes a group.
 */
export interface BacktestOptions {
  readonly from?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * A person's review: before the interval starting `at`, each anomaly found so far is shown
   * to `verdict` (true: an anomaly; false: not one; undefined: no opinion), and the engine
   * learns the verdicts, as it learns PutFeedback's.
   */
  readonly review?: { readonly at: number; readonly verdict: (a: Anomaly) => boolean | undefined };
  /** The interval, when it is none of the metric set frequencies (`vigil score` runs at the data's own step). */
  readonly intervalMs?: number;
  /** Series-intervals between two pauses of `backtestSlices` (SLICE_POINTS unless told). */
  readonly slicePoints?: number;
}

export function backtest(metricSet: BacktestMetricSet, data: Pick<Aggregation, "intervals">, options: BacktestOptions = {}): BacktestResult {
  const slices = backtestSlices(metricSet, data, options);
  for (;;) {
    const next = slices.next();
    if (next.done) return next.value;
  }
}

type BacktestMetricSet = Pick<MetricSet, "MetricSetArn" | "AnomalyDetectorArn" | "MetricList" | "DimensionList" | "MetricSetFrequency">;

/** Series-intervals a slice of a back-test scores, about: a few milliseconds of the engine (200,000 took 120 ms with the event layer). */
export const SLICE_POINTS = 5_000;

/**
 * The same back-test, a slice at a time: it pauses (yields) once it has scored SLICE_POINTS
 * series-intervals since its last pause, so whoever runs it can let other work go on between
 * slices (a service's detection and requests), or stop it. Its answer is `backtest`'s.
 */
export function* backtestSlices(metricSet: BacktestMetricSet, data: Pick<Aggregation, "intervals">, options: BacktestOptions = {}): Generator<void, BacktestResult, void> {
  const len = options.intervalMs ?? intervalMs(metricSet.MetricSetFrequency);
  const bank = new SeriesBank(len);
  const starts = [...data.intervals.keys()].sort((a, b) => a - b);
  const anomalies: BacktestResult["anomalies"][number][] = [];
  const groups = new Map<string, AnomalyGroupRecord>();
  const ctx = { ...groupingContextOf(metricSet), intervalMs: len };
  let open: AnomalyGroupRecord | undefined;
  let learned = 0;
  let scored = 0;
  const first = starts[0];
  const last = starts[starts.length - 1];
  if (first === undefined || last === undefined) return { anomalies: [], groups: [], intervalsLearned: 0, intervalsScored: 0 };
  const total = (last - first) / len + 1;
  let sliced = 0;
  for (let t = first, i = 0; t <= last; t += len, i++) {
    if (options.review?.at === t) {
      for (const a of anomalies) {
        const isAnomaly = options.review.verdict(a);
        if (isAnomaly !== undefined) applyVerdict(bank, metricSet, { measure: a.measure, dimensions: a.dimensions, z: deviationOf(a), IsAnomaly: isAnomaly });
      }
    }
    const learnOnly = options.from !== undefined && t < options.from;
    const members = noMembers();
    const cells = cellsAt(data.intervals, t);
    const found = scoreInterval(bank, metricSet, cells, t, { learnOnly, members: { since: open?.startMs ?? NaN, tally: members } });
    if (learnOnly) learned++;
    else scored++;
    const advance = advanceGroup(ctx, open, found, members, t);
    open = advance.open;
    const grown = advance.changed;
    if (grown) {
      groups.set(grown.AnomalyGroupId, grown);
      for (const a of found) anomalies.push({ ...a, anomalyGroupId: grown.AnomalyGroupId });
    }
    if (options.onProgress && i % 500 === 0) options.onProgress(i, total);
    sliced += (cells?.size ?? 0) * metricSet.MetricList.length;
    if (sliced >= (options.slicePoints ?? SLICE_POINTS)) {
      sliced = 0;
      yield;
    }
  }
  return { anomalies, groups: rankGroups([...groups.values()]), intervalsLearned: learned, intervalsScored: scored };
}
