import type { AnomalyGroupRecord, MeasureImpact } from "../model/anomaly.ts";
import { primaryImpact } from "./contribution.ts";

export type RelationshipType = "CAUSE_OF_INPUT_ANOMALY_GROUP" | "EFFECT_OF_INPUT_ANOMALY_GROUP";

/** L4M's InterMetricImpactDetails. */
export interface RelatedMetric {
  readonly MetricName: string;
  readonly AnomalyGroupId: string;
  readonly RelationshipType: RelationshipType;
  readonly ContributionPercentage: number;
}

/**
 * ListAnomalyGroupRelatedMetrics: the other measures that moved with a group's primary
 * measure. Vigil keeps one group per incident across a metric set's measures, where L4M
 * kept one per measure, so the relations are found in two places:
 * - inside the group, each other measure it holds, with its share of the group's
 *   strength (how far out its anomalies were, summed);
 * - other groups of the detector whose primary measure differs and whose intervals
 *   overlap, with the overlap's share of the longer of the two (in whole intervals).
 * A measure whose anomalies began before the primary's is a cause; at the same time or
 * after, an effect (the primary measure is taken as the lead).
 */
export function relatedMetrics(group: AnomalyGroupRecord, all: readonly AnomalyGroupRecord[], intervalMs: number): RelatedMetric[] {
  const primary = primaryImpact(group);
  return [...inside(group, primary), ...across(group, primary, all, intervalMs)];
}

const startOf = (impact: MeasureImpact, group: AnomalyGroupRecord) => impact.startMs ?? group.startMs;
const relation = (start: number, leadStart: number): RelationshipType => (start < leadStart ? "CAUSE_OF_INPUT_ANOMALY_GROUP" : "EFFECT_OF_INPUT_ANOMALY_GROUP");

function inside(group: AnomalyGroupRecord, primary: MeasureImpact): RelatedMetric[] {
  const impacts = Object.values(group.impacts);
  const total = impacts.reduce((sum, i) => sum + i.strength, 0);
  return impacts
    .filter((i) => i.measure !== primary.measure)
    .sort((a, b) => b.strength - a.strength)
    .map((i) => ({
      MetricName: i.measure,
      AnomalyGroupId: group.AnomalyGroupId,
      RelationshipType: relation(startOf(i, group), startOf(primary, group)),
      ContributionPercentage: total > 0 ? Math.round((100 * i.strength) / total) : 0,
    }));
}

function across(group: AnomalyGroupRecord, primary: MeasureImpact, all: readonly AnomalyGroupRecord[], intervalMs: number): RelatedMetric[] {
  // endMs is the start of a group's last interval: a group covers [startMs, endMs + intervalMs).
  return all
    .filter((g) => g.AnomalyGroupId !== group.AnomalyGroupId && g.startMs <= group.endMs && group.startMs <= g.endMs && primaryImpact(g).measure !== primary.measure)
    .map((g) => {
      const overlap = Math.min(g.endMs, group.endMs) - Math.max(g.startMs, group.startMs) + intervalMs;
      const span = Math.max(g.endMs - g.startMs, group.endMs - group.startMs) + intervalMs;
      return {
        MetricName: primaryImpact(g).measure,
        AnomalyGroupId: g.AnomalyGroupId,
        RelationshipType: relation(g.startMs, startOf(primary, group)),
        ContributionPercentage: Math.round((100 * overlap) / span),
      };
    });
}
