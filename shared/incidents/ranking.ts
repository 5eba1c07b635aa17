import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import { seriesCountOf } from "./contribution.ts";

const seriesCount = (g: AnomalyGroupRecord) => Object.values(g.impacts).reduce((n, i) => n + seriesCountOf(i), 0);

/** Most severe first; among equals, the broader incident, then the earlier one. */
export function rankGroups<G extends AnomalyGroupRecord>(groups: readonly G[]): G[] {
  return [...groups].sort((a, b) => b.score - a.score || seriesCount(b) - seriesCount(a) || a.startMs - b.startMs || a.AnomalyGroupId.localeCompare(b.AnomalyGroupId));
}
