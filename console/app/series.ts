import { number } from "./format.ts";
import type { BandLists, ScoreKind, TimeSeries } from "./wire.ts";

/**
 * One series as its chart draws it: the values, and the band detection kept of each interval
 * (expected value, lower and upper bound, score; null where it kept none), with the onset
 * and the end of the incident's window when it is an incident's.
 */
export interface SeriesChart {
  /** Interval starts, epoch seconds (uPlot's unit). */
  readonly times: readonly number[];
  readonly values: readonly (number | null)[];
  readonly expected: readonly (number | null)[];
  readonly lower: readonly (number | null)[];
  readonly upper: readonly (number | null)[];
  readonly scores: readonly (number | null)[];
  readonly kinds: readonly (ScoreKind | null)[];
  /** Epoch seconds: the group's first interval. */
  readonly onset?: number;
  /** Epoch seconds: the end of the group's last interval. */
  readonly end?: number;
  /** Index of the onset in `times` (`times.length` if the list stops before it, or there is none; 0 if it starts after it). */
  readonly onsetIndex: number;
}

/** The incident began before the chart's first interval: a long one, of which the chart shows the newest intervals. */
export const beganBefore = (chart: SeriesChart) => chart.onset !== undefined && chart.times.length > 0 && chart.onset < chart.times[0]!;

const nulls = (n: number) => Array.from({ length: n }, () => null);
const list = (xs: readonly (number | null)[] | undefined, n: number) => xs ?? nulls(n);

/** A series over a range (a series' history): no incident. */
export function rangeChart(timestamps: readonly string[], values: readonly (number | null)[], band: BandLists): SeriesChart {
  const n = timestamps.length;
  return { times: timestamps.map((t) => Date.parse(t) / 1000), values, expected: list(band.ExpectedValueList, n), lower: list(band.LowerBoundList, n), upper: list(band.UpperBoundList, n), scores: list(band.AnomalyScoreList, n), kinds: band.ScoreKindList ?? nulls(n), onsetIndex: n };
}

/** A series of an incident: the intervals before the group, then the group's own. */
export function seriesChart(timestamps: readonly string[], series: TimeSeries, startTime: string, endTime: string): SeriesChart {
  const base = rangeChart(timestamps, series.MetricValueList, series);
  const onset = Date.parse(startTime) / 1000;
  const step = base.times.length > 1 ? base.times[1]! - base.times[0]! : 0;
  const found = base.times.findIndex((t) => t >= onset);
  return { ...base, onset, end: Date.parse(endTime) / 1000 + step, onsetIndex: found < 0 ? base.times.length : found };
}

const mean = (xs: readonly (number | null)[]) => {
  const known = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : undefined;
};

/**
 * How far the series moved in the incident against the intervals before it, as a share of
 * its level then (against its expected values in the incident, when the chart shows none
 * before it): only to put the series that moved most first, never shown as a figure.
 */
export function movement(chart: SeriesChart): number {
  const before = chart.onsetIndex > 0 ? mean(chart.values.slice(0, chart.onsetIndex)) : mean(chart.expected.slice(chart.onsetIndex));
  const during = mean(chart.values.slice(chart.onsetIndex));
  if (before === undefined || during === undefined) return 0;
  return Math.abs(during - before) / Math.max(Math.abs(before), 1e-9);
}

/** Intervals whose value fell outside the band detection kept. */
export const outsideBand = (chart: SeriesChart) =>
  chart.values.reduce<number>((n, v, i) => n + (v !== null && chart.lower[i] !== null && chart.upper[i] !== null && (v < chart.lower[i]! || v > chart.upper[i]!) ? 1 : 0), 0);

const fmt = number;

/** Summary a screen reader hears in place of the picture. */
export function chartDescription(measure: string, chart: SeriesChart, dims: string): string {
  const known = chart.values.filter((v): v is number => v !== null);
  const atOnset = chart.values[chart.onsetIndex];
  const during = chart.values.slice(chart.onsetIndex).filter((v): v is number => v !== null);
  const range = known.length ? `values from ${fmt(Math.min(...known))} to ${fmt(Math.max(...known))}` : "no values";
  const before = beganBefore(chart);
  const onset = chart.onset === undefined ? "" : before ? "; the incident began before them" : atOnset === null || atOnset === undefined ? "; no value at the onset" : `; ${fmt(atOnset)} at the onset`;
  const expectedAtOnset = chart.expected[chart.onsetIndex];
  const expected = chart.onset !== undefined && !before && expectedAtOnset !== null && expectedAtOnset !== undefined ? ` (expected ${fmt(expectedAtOnset)})` : "";
  const span = during.length > 1 && chart.onset !== undefined ? `, ${fmt(Math.min(...during))} to ${fmt(Math.max(...during))} during the incident` : "";
  const outside = outsideBand(chart);
  return `${measure} for ${dims}: ${chart.values.length} intervals, ${range}${onset}${expected}${span}; ${outside} outside the expected band.`;
}
