import type { TimeSeries } from "./wire.ts";

/**
 * One series of an incident as its chart draws it: the values ListAnomalyGroupTimeSeries
 * read again from the interval files (the intervals before the group, then the group's own),
 * with the onset and the end of the incident's window.
 */
export interface SeriesChart {
  /** Interval starts, epoch seconds (uPlot's unit). */
  readonly times: readonly number[];
  readonly values: readonly (number | null)[];
  /** Epoch seconds: the group's first interval. */
  readonly onset: number;
  /** Epoch seconds: the end of the group's last interval. */
  readonly end: number;
  /** Index of the onset in `times` (`times.length` if the list stops before it). */
  readonly onsetIndex: number;
}

export function seriesChart(timestamps: readonly string[], series: TimeSeries, startTime: string, endTime: string): SeriesChart {
  const times = timestamps.map((t) => Date.parse(t) / 1000);
  const onset = Date.parse(startTime) / 1000;
  const step = times.length > 1 ? times[1]! - times[0]! : 0;
  const found = times.findIndex((t) => t >= onset);
  return { times, values: series.MetricValueList, onset, end: Date.parse(endTime) / 1000 + step, onsetIndex: found < 0 ? times.length : found };
}

const mean = (xs: readonly (number | null)[]) => {
  const known = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : undefined;
};

/**
 * How far the series moved in the incident against the intervals before it, as a share of
 * its level then: only to put the series that moved most first, never shown as a figure
 * (it is not the engine's expected value).
 */
export function movement(chart: SeriesChart): number {
  const before = mean(chart.values.slice(0, chart.onsetIndex));
  const during = mean(chart.values.slice(chart.onsetIndex));
  if (before === undefined || during === undefined) return 0;
  return Math.abs(during - before) / Math.max(Math.abs(before), 1e-9);
}

/** Summary a screen reader hears in place of the picture. */
export function chartDescription(measure: string, chart: SeriesChart, dims: string): string {
  const known = chart.values.filter((v): v is number => v !== null);
  const atOnset = chart.values[chart.onsetIndex];
  const during = chart.values.slice(chart.onsetIndex).filter((v): v is number => v !== null);
  const range = known.length ? `values from ${Math.min(...known).toLocaleString("en-US")} to ${Math.max(...known).toLocaleString("en-US")}` : "no values";
  const onset = atOnset === null || atOnset === undefined ? "no value at the onset" : `${atOnset.toLocaleString("en-US")} at the onset`;
  const span = during.length > 1 ? `, ${Math.min(...during).toLocaleString("en-US")} to ${Math.max(...during).toLocaleString("en-US")} during the incident` : "";
  return `${measure} for ${dims}: ${chart.values.length} intervals, ${range}; ${onset}${span}.`;
}
