import { BAND_Z } from "../engine/calibration.ts";
import type { Anomaly, AnomalyGroupRecord, MeasureImpact } from "../model/anomaly.ts";
import { intervalMs } from "../model/frequency.ts";
import { stableUuid, type AnomalyDetectorArn, type AnomalyGroupId, type MetricSetArn } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import { own, setOwn } from "../model/shapes.ts";

/**
 * Anomalies of one metric set that overlap in time are one incident: the open group takes
 * every anomaly while it is open, and stays open while the deviation of one of its series
 * persists (the engine keeps each series' event open while it does, engine/event.ts), so a
 * long or worsening incident stays one group whose severity follows its worst interval. It
 * closes at the first interval where none of its series is still deviating. The group id
 * is a hash of the metric set and the group's first interval, so a re-run of the same
 * intervals yields the same ids.
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

/**
 * How far an anomaly was from expected, signed, in units of its series' residual scale on
 * that side then (its band is expected − BAND_Z·below … expected + BAND_Z·above).
 */
export function deviationOf(a: Pick<Anomaly, "actual" | "expected" | "lower" | "upper">): number {
  const r = a.actual - a.expected;
  const scale = (r >= 0 ? a.upper - a.expected : a.expected - a.lower) / BAND_Z;
  return scale > 0 ? r / scale : 0;
}

/** Where each series of a measure is in its `series`, and so in its seriesPeak: made once an interval, for the measures that keep peaks. */
type SeriesSlots = Map<MeasureImpact, Map<string, number>>;

function addAnomaly(group: AnomalyGroupRecord, a: Anomaly, slots: SeriesSlots): void {
  const impact: MeasureImpact = own(group.impacts, a.measure) ?? (group.impacts[a.measure] = { measure: a.measure, series: {}, actual: 0, expected: 0, peakScore: 0, strength: 0, deviation: {}, startMs: a.timestamp, seriesPeak: [] });
  // Only a measure that has kept peaks from its first anomaly keeps them: one read back without them would hold the later anomalies' alone.
  let at = slots.get(impact);
  if (impact.seriesPeak && !at) {
    const ids = Object.keys(impact.series);
    if (impact.seriesPeak.length === ids.length) slots.set(impact, (at = new Map(ids.map((id, i) => [id, i]))));
    else delete impact.seriesPeak;
  }
  impact.series[a.timeSeriesId] = a.dimensions;
  if (impact.seriesPeak && at) {
    let i = at.get(a.timeSeriesId);
    if (i === undefined) at.set(a.timeSeriesId, (i = impact.seriesPeak.push(0) - 1));
    const z = deviationOf(a);
    const peak = impact.seriesPeak[i]!;
    impact.seriesPeak[i] = Number.isFinite(z) && Math.abs(z) > Math.abs(peak) ? z : peak;
  }
  impact.actual += a.actual;
  impact.expected += a.expected;
  impact.peakScore = Math.max(impact.peakScore, a.score);
  const dev = Math.abs(a.actual - a.expected);
  const band = a.upper - a.lower;
  impact.strength += band > 0 ? dev / band : 0;
  for (const [name, value] of Object.entries(a.dimensions)) {
    // A dimension's values come from the data: a value such as `constructor` or `__proto__` is a key like any other, in a group read back from its record too.
    const byValue = own(impact.deviation, name) ?? (impact.deviation[name] = Object.create(null) as Record<string, number>);
    setOwn(byValue, value, (own(byValue, value) ?? 0) + dev);
    // A dimension whose record let go of values keeps its total apart (incidents/bounded.ts).
    const total = impact.deviationTotal && own(impact.deviationTotal, name);
    if (total !== undefined) setOwn(impact.deviationTotal!, name, total + dev);
  }
  group.score = Math.max(group.score, a.score);
  group.anomalyCount++;
  group.endMs = Math.max(group.endMs, a.timestamp);
}

/**
 * What an interval's series say of the metric set's open anomaly group, counted while they
 * are scored (scoreInterval, detect/score-interval.ts) and added up over shards: a member is
 * a series with an anomaly since the group's first interval (every anomaly since then joined
 * the group).
 */
export interface MemberTally {
  /** This interval's anomalies of series already members. */
  returning: number;
  /** This interval's anomalies of series not yet members, by measure: the group's new series, if they join it. */
  readonly fresh: Record<string, number>;
  /** Members whose deviation persists without an anomaly this interval: they hold the group open. */
  persisting: number;
}

export const noMembers = (): MemberTally => ({ returning: 0, fresh: Object.create(null) as Record<string, number>, persisting: 0 });

/** Tallies added up, as the merge adds the shards' (each counts its own series). */
export function sumTallies(tallies: readonly MemberTally[]): MemberTally {
  const sum = noMembers();
  for (const t of tallies) {
    sum.returning += t.returning;
    sum.persisting += t.persisting;
    for (const [measure, n] of Object.entries(t.fresh)) sum.fresh[measure] = (sum.fresh[measure] ?? 0) + n;
  }
  return sum;
}

/** What one interval did to the metric set's open group. */
export interface GroupAdvance {
  /** The group open after this interval, if any. */
  readonly open: AnomalyGroupRecord | undefined;
  /** The group that took this interval's anomalies (a new revision), if any. */
  readonly changed: AnomalyGroupRecord | undefined;
  /** The group that closed at this interval, if any. */
  readonly ended: AnomalyGroupRecord | undefined;
}

/** A measure's series' largest deviations, in the order of its series (MeasureImpact.seriesPeak); undefined where it kept none. */
export const seriesPeaksOf = (impact: MeasureImpact) => (impact.seriesPeak?.length === Object.keys(impact.series).length ? impact.seriesPeak : undefined);

/** A series' largest deviation in the group as its measure kept it (MeasureImpact.seriesPeak); undefined where it kept none. */
export function seriesPeakOf(impact: MeasureImpact, seriesId: string): number | undefined {
  return seriesPeaksOf(impact)?.[Object.keys(impact.series).indexOf(seriesId)];
}

/**
 * Folds one interval into the metric set's open group (copied, never mutated in place):
 * its anomalies join the open group or start a new one; without anomalies, the group stays
 * open while one of its series' deviation persists and ends otherwise. What the interval's
 * series say of the group's members is `members` (counted as they were scored,
 * detect/score-interval.ts): the open group may be its record, which keeps only its most
 * severe series (incidents/bounded.ts), so membership is not read from it.
 */
export function advanceGroup(ctx: GroupingContext, open: AnomalyGroupRecord | undefined, anomalies: readonly Anomaly[], members: Readonly<MemberTally>, intervalStart: number): GroupAdvance {
  if (anomalies.length > 0) {
    // The open group takes them when it had anomalies the interval before, or when one of them is its own series, still deviating; otherwise it has ended and they start another.
    const joins = open !== undefined && (open.endMs >= intervalStart - ctx.intervalMs || members.returning > 0);
    const group = joins ? (structuredClone(open) as AnomalyGroupRecord) : newGroup(ctx, intervalStart);
    const slots: SeriesSlots = new Map();
    for (const a of anomalies) addAnomaly(group, a, slots);
    // A measure whose record let go of series counts its new ones as the interval counted them; one that kept all of them counts its series.
    if (joins) for (const impact of Object.values(group.impacts)) if (impact.seriesCount !== undefined) impact.seriesCount += own(members.fresh, impact.measure) ?? 0;
    group.revision++;
    return { open: group, changed: group, ended: joins ? undefined : open };
  }
  if (open && members.persisting > 0) return { open, changed: undefined, ended: undefined };
  return { open: undefined, changed: undefined, ended: open };
}
