import type { SeriesBank } from "../engine/bank.ts";
import { BAND_Z } from "../engine/calibration.ts";
import { EventLayer } from "../engine/event.ts";
import { remember } from "../engine/recent.ts";
import { newStepResult, step } from "../engine/step.ts";
import { applyFeedback } from "../engine/feedback.ts";
import { cellValue, type CellWalk } from "../ingest/aggregate.ts";
import { seriesKeyOf } from "../ingest/series-key.ts";
import type { MemberTally } from "../incidents/grouping.ts";
import type { Anomaly } from "../model/anomaly.ts";
import { timeSeriesId } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";

/** Points scoring below this (rarer than one interval in 2,000: engine/calibration.ts) are normal and not recorded as anomalies. */
export const MIN_ANOMALY_SCORE = EventLayer.EVENT_SCORE;
/** Within an incident already under way, a series' deviations down to this severity (one interval in 80) are recorded as its anomalies too, so a group spans its incident. */
export const ONGOING_ANOMALY_SCORE = 50;
/** Bounds shown with an anomaly: the band of normal values, in residual scales either side of expected. */
export const BOUND_Z = BAND_Z;

export const bankKey = (measure: string, seriesKey: string) => `${measure}\u001e${seriesKey}`;

export type ScoredMetricSet = Pick<MetricSet, "MetricSetArn" | "MetricList" | "DimensionList">;

/**
 * Scores every series of one interval against the model and learns it (causal: the
 * score of interval t uses intervals < t only). With `learnOnly` (history), nothing is
 * reported. Series without a value this interval are left as they were. Each series'
 * anomaly is kept in the bank (lastAnomalyK); with `members`, the interval's series are
 * counted against the open group that began at `since` (NaN: none). The slot of every
 * series given a value goes to `slots`, in order, when given (what keptPointsOf reads back).
 */
export function scoreInterval(bank: SeriesBank, metricSet: ScoredMetricSet, cells: CellWalk | undefined, intervalStart: number, options: { learnOnly?: boolean; minScore?: number; members?: { readonly since: number; readonly tally: MemberTally }; slots?: number[] } = {}): Anomaly[] {
  if (!cells) return [];
  const minScore = options.minScore ?? MIN_ANOMALY_SCORE;
  const k = Math.floor(intervalStart / bank.intervalMs);
  const dims = dimensionsOf(metricSet);
  const out = newStepResult();
  const anomalies: Anomaly[] = [];
  // Each measure's part of its bank keys: a series is found by its key's two parts, not a key made for the lookup.
  const heads = metricSet.MetricList.map((metric) => bankKey(metric.MetricName, ""));
  const members = options.members;
  const sinceK = members ? Math.floor(members.since / bank.intervalMs) : NaN;
  cells.forEach((cell, seriesKey) => {
    metricSet.MetricList.forEach((metric, m) => {
      const x = cellValue(cell, m, metric.AggregationFunction);
      if (x === undefined) return;
      const slot = bank.slotOf(heads[m]!, seriesKey);
      options.slots?.push(slot);
      step(bank, slot, k, x, out, options.learnOnly);
      if (Number.isFinite(x)) remember(bank, slot, k, x, out.expected, out.scale);
      const recorded = out.score >= minScore || (out.ongoing && out.score >= Math.min(minScore, ONGOING_ANOMALY_SCORE));
      if (!recorded) {
        if (out.open && members && bank.lastAnomalyK[slot]! >= sinceK) members.tally.persisting++;
        return;
      }
      if (members) {
        if (bank.lastAnomalyK[slot]! >= sinceK) members.tally.returning++;
        else members.tally.fresh[metric.MetricName] = (members.tally.fresh[metric.MetricName] ?? 0) + 1;
      }
      bank.lastAnomalyK[slot] = k;
      const pairs = dims.map((d, i) => [d, cell.dimensions[i]!] as const);
      const id = timeSeriesId(metricSet.MetricSetArn, metric.MetricName, pairs);
      anomalies.push({
        metricSetArn: metricSet.MetricSetArn,
        timeSeriesId: id,
        measure: metric.MetricName,
        dimensions: Object.fromEntries(pairs),
        timestamp: intervalStart,
        actual: x,
        // A drift is shown against where the level was before it moved.
        expected: out.expected - out.drift,
        lower: out.expected - BOUND_Z * out.scaleBelow,
        upper: out.expected + BOUND_Z * out.scaleAbove,
        direction: (out.drift !== 0 ? out.drift : out.z) >= 0 ? "UP" : "DOWN",
        score: Math.round(out.score * 100) / 100,
        ...(out.drift !== 0 ? { kind: "drift" as const } : {}),
      });
    });
  });
  return anomalies;
}

/** A person's verdict on one series, applied to that series' state in the bank (if it has one). */
export function applyVerdict(bank: SeriesBank, metricSet: Pick<MetricSet, "DimensionList">, v: { readonly measure: string; readonly dimensions: Readonly<Record<string, string>>; readonly z: number; readonly IsAnomaly: boolean }): void {
  const key = bankKey(v.measure, seriesKeyOf(dimensionsOf(metricSet).map((d) => v.dimensions[d] ?? "")));
  if (bank.has(key)) applyFeedback(bank, bank.slot(key), v.IsAnomaly, v.z);
}
