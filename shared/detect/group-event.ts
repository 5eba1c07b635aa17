import type { SeriesBank } from "../engine/bank.ts";
import { recentWindow, type RecentPoint } from "../engine/recent.ts";
import { seriesKeyOf } from "../ingest/series-key.ts";
import { AFFECTED_SHARE, contributionScore, deviationTotalOf, primaryImpact, toAnomalyGroup, topContributors } from "../incidents/contribution.ts";
import type { AnomalyGroupEvent, GroupChart, GroupSummary } from "../model/anomaly-event.ts";
import type { Anomaly, AnomalyGroupRecord, MeasureImpact } from "../model/anomaly.ts";
import { bankKey, BOUND_Z } from "./score-interval.ts";

/** Intervals an alert's chart shows. */
export const CHART_INTERVALS = 24;
const RELEVANT_SERIES = 10;

/** Where an event's chart reads the recent values of series: a model's bank, or what its shards reported. */
export interface RecentValues {
  readonly intervalMs: number;
  /** The `n` intervals of the series of bank key `key` ending at interval `k`, or undefined when the model has no such series. */
  window(key: string, k: number, n: number): readonly RecentPoint[] | undefined;
}

export const recentValuesOf = (bank: SeriesBank): RecentValues => ({ intervalMs: bank.intervalMs, window: (key, k, n) => (bank.has(key) ? recentWindow(bank, bank.slot(key), k, n) : undefined) });

/**
 * The event announcing `group` (its stored record) at `intervalStart`, with everything a
 * message shows. Its affected values, which alerts' dimension filters and silences match,
 * are those of `whole`, the group as the model carries it (incidents/bounded.ts,
 * carriedGroup) grown by the interval: a record past its bytes may not keep every value that
 * carries a share of the deviation, the carried group does.
 */
export function groupEvent(type: AnomalyGroupEvent["type"], group: AnomalyGroupRecord, anomalies: readonly Anomaly[], bank: RecentValues, intervalStart: number, whole: AnomalyGroupRecord = group): AnomalyGroupEvent {
  return {
    type,
    anomalyDetectorArn: group.AnomalyDetectorArn,
    metricSetArn: group.MetricSetArn,
    revision: group.revision,
    intervalStart,
    intervalMs: bank.intervalMs,
    anomalyGroup: toAnomalyGroup(group),
    summary: summaryOf(group, whole, anomalies, bank, intervalStart),
  };
}

function summaryOf(group: AnomalyGroupRecord, whole: AnomalyGroupRecord, anomalies: readonly Anomaly[], bank: RecentValues, intervalStart: number): GroupSummary {
  const primary = primaryImpact(group);
  // Scored as the contribution matrix scores them, without ordering every value of a wide group.
  const affected = Object.values(whole.impacts).flatMap((impact) =>
    whole.dimensionNames.flatMap((name) => {
      const total = deviationTotalOf(impact, name);
      return Object.entries(impact.deviation[name] ?? {}).flatMap(([value, dev]) => (contributionScore(dev, total) >= AFFECTED_SHARE ? [`${name}=${value}`] : []));
    }),
  );
  const relevant = anomalies
    .filter((a) => a.measure === primary.measure)
    .sort((a, b) => Math.abs(b.actual - b.expected) - Math.abs(a.actual - a.expected))
    .slice(0, RELEVANT_SERIES)
    .map((a) => ({
      timeSeriesId: a.timeSeriesId,
      dimensions: Object.entries(a.dimensions).map(([dimensionName, dimensionValue]) => ({ dimensionName, dimensionValue })),
      metricValue: a.actual,
      expectedValue: a.expected,
    }));
  return {
    measure: primary.measure,
    direction: primary.actual >= primary.expected ? "UP" : "DOWN",
    actual: primary.actual,
    expected: primary.expected,
    contributors: topContributors(primary, group.dimensionNames),
    affected: [...new Set(affected)].sort(),
    relevantTimeSeries: relevant,
    chart: chartOf(primary, group.dimensionNames, bank, intervalStart),
  };
}

/** The primary measure of the group's series, summed over the last CHART_INTERVALS intervals. */
function chartOf(impact: MeasureImpact, dimensionNames: readonly string[], bank: RecentValues, intervalStart: number): GroupChart {
  const k = Math.floor(intervalStart / bank.intervalMs);
  const sums = Array.from({ length: CHART_INTERVALS }, () => ({ actual: 0, expected: 0, lower: 0, upper: 0, n: 0 }));
  for (const dimensions of Object.values(impact.series)) {
    const key = bankKey(impact.measure, seriesKeyOf(dimensionNames.map((d) => dimensions[d] ?? "")));
    bank.window(key, k, CHART_INTERVALS)?.forEach((p, j) => {
      if (!Number.isFinite(p.actual)) return;
      const half = Number.isFinite(p.scale) ? BOUND_Z * p.scale : 0;
      const s = sums[j]!;
      s.actual += p.actual;
      s.expected += p.expected;
      s.lower += p.expected - half;
      s.upper += p.expected + half;
      s.n++;
    });
  }
  const pick = (f: (s: (typeof sums)[number]) => number) => sums.map((s) => (s.n > 0 ? chartValue(f(s)) : null));
  return {
    start: (k - CHART_INTERVALS + 1) * bank.intervalMs,
    intervalMs: bank.intervalMs,
    actual: pick((s) => s.actual),
    expected: pick((s) => s.expected),
    lower: pick((s) => s.lower),
    upper: pick((s) => s.upper),
  };
}

/**
 * A chart's value as events carry it (and webhooks send it, docs/webhooks.md): to three
 * decimals, and below one to four significant digits, so a rate such as 0.00042 crashes a
 * session is drawn as it is, not as 0.
 */
export const chartValue = (x: number) => (x === 0 || Math.abs(x) >= 1 ? Math.round(x * 1000) / 1000 : Number(x.toPrecision(4)));
