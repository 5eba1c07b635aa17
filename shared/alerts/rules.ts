import type { Alert } from "../model/alert.ts";
import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";

/**
 * Whether an alert is about this group: L4M's rule, an active alert of the group's detector
 * whose threshold the group's score meets, and whose filters (measures; dimension values)
 * the group matches. An ended group is matched on its last score, so its end is told to
 * the alerts that were told of it.
 */
export function alertMatches(alert: Alert, event: AnomalyGroupEvent): boolean {
  if (alert.AlertStatus !== "ACTIVE" || alert.AnomalyDetectorArn !== event.anomalyDetectorArn) return false;
  if (event.anomalyGroup.AnomalyGroupScore < alert.AlertSensitivityThreshold) return false;
  const filters = alert.AlertFilters;
  const measures = event.anomalyGroup.MetricLevelImpactList.map((i) => i.MetricName);
  if (filters?.MetricList && !filters.MetricList.some((m) => measures.includes(m))) return false;
  const affected = new Set(event.summary.affected);
  return (filters?.DimensionFilterList ?? []).every((f) => f.DimensionValueList.some((v) => affected.has(`${f.DimensionName}=${v}`)));
}
