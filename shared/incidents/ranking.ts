import type { AnomalyGroupRecord } from "../model/anomaly.ts";

const seriesCount = (g: AnomalyGroupRecord) => Object.values(g.impacts).reduce((n, i) => n + Object.keys(i.series).length, 0);

/** Most severe first; among equals, the broader incident, then the earlier one. */
export function rankGroups<G extends AnomalyGroupRecord>(groups: readonly G[]): G[] {
  return [...groups].sort((a, b) => b.score - a.score || seriesCount(b) - seriesCount(a) || a.startMs - b.startMs || a.AnomalyGroupId.localeCompare(b.AnomalyGroupId));
}
