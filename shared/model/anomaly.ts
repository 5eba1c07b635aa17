import type { AnomalyDetectorArn, AnomalyGroupId, MetricSetArn, TimeSeriesId } from "./ids.ts";

export type Direction = "UP" | "DOWN";

/** One series at one interval that the engine found unexpected. */
export interface Anomaly {
  readonly metricSetArn: MetricSetArn;
  readonly timeSeriesId: TimeSeriesId;
  readonly measure: string;
  /** Dimension values in the metric set's dimension order. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Interval start, epoch ms. */
  readonly timestamp: number;
  readonly actual: number;
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  readonly direction: Direction;
  /** 0–100, calibrated: the same score is the same rarity on every series. */
  readonly score: number;
  /** "drift": the level moved slowly by several residual scales over days, reported once (no one interval was surprising). */
  readonly kind?: "drift";
}

/** L4M's ContributionMatrix: which dimension values carry the deviation of one measure. */
export interface ContributionMatrix {
  readonly DimensionContributionList: readonly {
    readonly DimensionName: string;
    readonly DimensionValueContributionList: readonly { readonly DimensionValue: string; readonly ContributionScore: number }[];
  }[];
}

export interface MetricLevelImpact {
  readonly MetricName: string;
  readonly NumTimeSeries: number;
  readonly ContributionMatrix: ContributionMatrix;
}

/** L4M's AnomalyGroup, as GetAnomalyGroup returns it. */
export interface AnomalyGroup {
  readonly AnomalyGroupId: AnomalyGroupId;
  readonly StartTime: string;
  readonly EndTime: string;
  readonly AnomalyGroupScore: number;
  readonly PrimaryMetricName: string;
  readonly MetricLevelImpactList: readonly MetricLevelImpact[];
}

/** Running totals of one measure inside a group. */
export interface MeasureImpact {
  readonly measure: string;
  /**
   * Series of this measure in the group, by id, with their dimension values. In the group's
   * stored record, its most severe ones only (boundedGroup): `seriesCount` then counts them all.
   */
  series: Record<string, Readonly<Record<string, string>>>;
  /** How many series the measure has in the group, where `series` holds fewer (a stored record past its bound); absent where it holds them all. */
  seriesCount?: number;
  actual: number;
  expected: number;
  peakScore: number;
  /** Σ of each anomaly's deviation in units of its normal band: how far out, summed. */
  strength: number;
  /** Σ|actual − expected| per dimension, per value: in a stored record past its bound, the largest values' only (boundedGroup). */
  deviation: Record<string, Record<string, number>>;
  /** Σ|actual − expected| per dimension over all its values, for a dimension whose `deviation` holds fewer; absent where it holds them all. */
  deviationTotal?: Record<string, number>;
  /** Start of this measure's first anomaly in the group (epoch ms); absent on groups stored before it was kept. */
  startMs?: number;
  /**
   * Each series' largest deviation in the group, signed (above or below expected), in units of
   * its residual scale then (deviationOf): what a verdict on the series judges (PutFeedback).
   * In the order of `series` (its keys' insertion order, which JSON and structuredClone keep;
   * ids are never integer-like): a list, not a map by id, as a group's record holds each
   * 128-character id once more only at twice its size (gzipped). Kept from the measure's first
   * anomaly on; absent on a measure that joined a group before it was kept, which never gains
   * it (it would miss the earlier anomalies). Read through seriesPeakOf.
   */
  seriesPeak?: number[];
}

/** An anomaly group as Vigil stores it: what is needed to grow it and render it. */
export interface AnomalyGroupRecord {
  readonly AnomalyGroupId: AnomalyGroupId;
  readonly AnomalyDetectorArn: AnomalyDetectorArn;
  readonly MetricSetArn: MetricSetArn;
  readonly dimensionNames: readonly string[];
  startMs: number;
  endMs: number;
  score: number;
  anomalyCount: number;
  /** Bumped whenever the group changes, so alerts can tell a grown group from a re-run. */
  revision: number;
  impacts: Record<string, MeasureImpact>;
}
