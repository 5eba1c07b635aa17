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
 * grouped. Empty intervals count too: a quiet interval closes a group.
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
  /** Intervals visited (empty or not) between two pauses at most (SLICE_INTERVALS unless told). */
  readonly sliceIntervals?: number;
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

/** Intervals a slice of a back-test visits at most, empty or not: a slice of sparse data pauses too. */
export const SLICE_INTERVALS = 10_000;

/** How often (in intervals) `onProgress` is told. */
const PROGRESS_EVERY = 500;

/**
 * The same back-test, a slice at a time: it pauses (yields) once it has scored SLICE_POINTS
 * series-intervals, or visited SLICE_INTERVALS intervals, since its last pause, so whoever
 * runs it can let other work go on between slices (a service's detection and requests), or
 * stop it. Its answer is `backtest`'s.
 *
 * Its cost follows the data, not its span: an empty interval changes nothing unless a group
 * is open (it closes it) or a review falls on it, so a run of empty ones with neither is
 * jumped over, counted as walked (a far-off row would otherwise mean millions of intervals).
 */
export function* backtestSlices(metricSet: BacktestMetricSet, data: Pick<Aggregation, "intervals">, options: BacktestOptions = {}): Generator<void, BacktestResult, void> {
  const len = options.intervalMs ?? intervalMs(metricSet.MetricSetFrequency);
  const bank = new SeriesBank(len);
  const starts = [...data.intervals.keys()].sort((a, b) => a - b);
  const anomalies: BacktestResult["anomalies"][number][] = [];
  const groups = new Map<string, AnomalyGroupRecord>();
  const ctx = { ...groupingContextOf(metricSet), intervalMs: len };
  let open: AnomalyGroupRecord | undefined;
  const first = starts[0];
  const last = starts[starts.length - 1];
  if (first === undefined || last === undefined) return { anomalies: [], groups: [], intervalsLearned: 0, intervalsScored: 0 };
  const grid = gridOf(first, last, len, options);
  const total = (last - first) / len + 1;
  const slicePoints = options.slicePoints ?? SLICE_POINTS;
  const sliceIntervals = options.sliceIntervals ?? SLICE_INTERVALS;
  let learned = 0;
  let scored = 0;
  /** Series-intervals scored and intervals visited since the last pause. */
  let sliced = 0;
  let visited = 0;
  /** The interval `onProgress` is next told at (or past, after a jump). */
  let progressAt = 0;
  /** Where in `starts` the next interval with data is. */
  let p = 0;
  for (let i = 0; i < grid.count; ) {
    const t = first + i * len;
    if (options.review?.at === t) reviewed(bank, metricSet, anomalies, options.review.verdict);
    const learnOnly = options.from !== undefined && t < options.from;
    const members = noMembers();
    const cells = cellsAt(data.intervals, t);
    const found = scoreInterval(bank, metricSet, cells, t, { learnOnly, members: { since: open?.startMs ?? NaN, tally: members } });
    const advance = advanceGroup(ctx, open, found, members, t);
    open = advance.open;
    const grown = advance.changed;
    if (grown) {
      groups.set(grown.AnomalyGroupId, grown);
      for (const a of found) anomalies.push({ ...a, anomalyGroupId: grown.AnomalyGroupId });
    }
    if (options.onProgress && i >= progressAt) {
      options.onProgress(i, total);
      progressAt = (Math.floor(i / PROGRESS_EVERY) + 1) * PROGRESS_EVERY;
    }
    // The next interval that can change anything: the next one while a group is open, else the next with data (or a review).
    while (p < starts.length && starts[p]! <= t) p++;
    const next = open ? i + 1 : grid.nextVisit(i, starts[p]);
    const before = grid.learnedIn(i, next);
    learned += before;
    scored += next - i - before;
    i = next;
    sliced += (cells?.size ?? 0) * metricSet.MetricList.length;
    if (sliced >= slicePoints || ++visited >= sliceIntervals) {
      [sliced, visited] = [0, 0];
      yield;
    }
  }
  return { anomalies, groups: rankGroups([...groups.values()]), intervalsLearned: learned, intervalsScored: scored };
}

/** Shows each anomaly found so far to a person's verdict, and learns the verdicts given. */
function reviewed(bank: SeriesBank, metricSet: BacktestMetricSet, anomalies: readonly Anomaly[], verdict: (a: Anomaly) => boolean | undefined): void {
  for (const a of anomalies) {
    const isAnomaly = verdict(a);
    if (isAnomaly !== undefined) applyVerdict(bank, metricSet, { measure: a.measure, dimensions: a.dimensions, z: deviationOf(a), IsAnomaly: isAnomaly });
  }
}

/**
 * The intervals a back-test walks, by index from `first` (interval i starts at first + i × len):
 * how many, which come before `from`, and which is the next worth visiting past an empty run.
 */
function gridOf(first: number, last: number, len: number, options: Pick<BacktestOptions, "from" | "review">) {
  const count = Math.floor((last - first) / len) + 1;
  /** The index of the first interval starting at or after `t` (count when none does). */
  const indexAtOrAfter = (t: number) => Math.min(count, Math.max(0, Math.ceil((t - first) / len)));
  const fromIndex = options.from === undefined ? 0 : indexAtOrAfter(options.from);
  const at = options.review?.at;
  // A review is given only at an interval's start (as the walk meets it).
  const reviewIndex = at !== undefined && (at - first) % len === 0 ? (at - first) / len : undefined;
  return {
    count,
    /** Intervals of [a, b) that only teach (they start before `from`). */
    learnedIn: (a: number, b: number) => Math.max(0, Math.min(b, fromIndex) - a),
    /** The first interval after `i` that holds data (the first start after i's is `nextData`) or a review. */
    nextVisit(i: number, nextData: number | undefined): number {
      const data = nextData === undefined ? count : indexAtOrAfter(nextData);
      return reviewIndex !== undefined && reviewIndex > i && reviewIndex < data ? reviewIndex : data;
    },
  };
}
