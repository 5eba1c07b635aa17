import type { Anomaly, AnomalyGroupRecord, MeasureImpact } from "../model/anomaly.ts";
import { intervalMs } from "../model/frequency.ts";
import { stableUuid, type AnomalyDetectorArn, type AnomalyGroupId, type MetricSetArn } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";

/**
 * Anomalies of one metric set at the same or consecutive intervals are one incident: the
 * open group grows while every interval brings anomalies and closes at the first quiet
 * one. The group id is a hash of the metric set and the group's first interval, so a
 * re-run of the same intervals yields the same ids.
 */

export interface GroupingContext {
  readonly detectorArn: AnomalyDetectorArn;
  readonly metricSetArn: MetricSetArn;
  readonly dimensionNames: readonly string[];
  readonly intervalMs: number;
}

/** The grouping context of a metric set. */
export function groupingContextOf(metricSet: Pick<MetricSet, "AnomalyDetectorArn" | "MetricSetArn" | "DimensionList" | "MetricSetFrequency">): GroupingContext {
  return { detectorArn: metricSet.AnomalyDetectorArn, metricSetArn: metricSet.MetricSetArn, dimensionNames: dimensionsOf(metricSet), intervalMs: intervalMs(metricSet.MetricSetFrequency) };
}

export const groupIdOf = (metricSetArn: MetricSetArn, startMs: number) => stableUuid(`${metricSetArn}@${startMs}`) as AnomalyGroupId;

/** Whether `group` may take anomalies of the interval starting at `intervalStart`. */
export const isOpenAt = (group: AnomalyGroupRecord, intervalStart: number, intervalMs: number) =>
  group.endMs >= intervalStart - intervalMs && group.startMs <= intervalStart;

function newGroup(ctx: GroupingContext, startMs: number): AnomalyGroupRecord {
  return {
    AnomalyGroupId: groupIdOf(ctx.metricSetArn, startMs),
    AnomalyDetectorArn: ctx.detectorArn,
    MetricSetArn: ctx.metricSetArn,
    dimensionNames: ctx.dimensionNames,
    startMs,
    endMs: startMs,
    score: 0,
    anomalyCount: 0,
    revision: 0,
    impacts: {},
  };
}

function addAnomaly(group: AnomalyGroupRecord, a: Anomaly): void {
  const impact: MeasureImpact = (group.impacts[a.measure] ??= { measure: a.measure, series: {}, actual: 0, expected: 0, peakScore: 0, strength: 0, deviation: {}, startMs: a.timestamp });
  impact.series[a.timeSeriesId] = a.dimensions;
  impact.actual += a.actual;
  impact.expected += a.expected;
  impact.peakScore = Math.max(impact.peakScore, a.score);
  const dev = Math.abs(a.actual - a.expected);
  const band = a.upper - a.lower;
  impact.strength += band > 0 ? dev / band : 0;
  for (const [name, value] of Object.entries(a.dimensions)) {
    const byValue = (impact.deviation[name] ??= {});
    byValue[value] = (byValue[value] ?? 0) + dev;
  }
  group.score = Math.max(group.score, a.score);
  group.anomalyCount++;
  group.endMs = Math.max(group.endMs, a.timestamp);
}

/**
 * Folds one interval's anomalies into the metric set's open group (copied, never mutated
 * in place) or starts a new one. Returns the group that took them, if any.
 */
export function groupInterval(ctx: GroupingContext, open: AnomalyGroupRecord | undefined, anomalies: readonly Anomaly[], intervalStart: number): AnomalyGroupRecord | undefined {
  if (anomalies.length === 0) return undefined;
  const group = open && isOpenAt(open, intervalStart, ctx.intervalMs) ? (structuredClone(open) as AnomalyGroupRecord) : newGroup(ctx, intervalStart);
  for (const a of anomalies) addAnomaly(group, a);
  group.revision++;
  return group;
}
