import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";
import type { Silence } from "../model/silence.ts";

/** Whether `silence` covers the group at `now` (epoch ms): in its window, and every matcher given matches. */
export function silences(silence: Silence, event: AnomalyGroupEvent, now: number): boolean {
  if (now < Date.parse(silence.StartsAt) || now >= Date.parse(silence.EndsAt)) return false;
  if (silence.AnomalyDetectorArn && silence.AnomalyDetectorArn !== event.anomalyDetectorArn) return false;
  if (silence.MetricName && !event.anomalyGroup.MetricLevelImpactList.some((i) => i.MetricName === silence.MetricName)) return false;
  const affected = new Set(event.summary.affected);
  return (silence.DimensionValues ?? []).every((d) => affected.has(`${d.DimensionName}=${d.DimensionValue}`));
}

/** The first silence that mutes the group now, if any. */
export const silenceFor = (all: readonly Silence[], event: AnomalyGroupEvent, now: number) => all.find((s) => silences(s, event, now));
