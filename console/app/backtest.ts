import type { GroupSummary } from "./wire.ts";

const WEEK_MS = 7 * 86_400_000;

/**
 * What a back-test says of a least severity: the incidents it would have raised at that
 * severity or more, and how many a week that is over the period scored.
 */
export function atSeverity(groups: readonly GroupSummary[], threshold: number, from: number, to: number): { groups: GroupSummary[]; perWeek: number } {
  const kept = groups.filter((g) => g.AnomalyGroupScore >= threshold).sort((a, b) => Date.parse(a.StartTime) - Date.parse(b.StartTime));
  const weeks = Math.max(to - from, 1) / WEEK_MS;
  return { groups: kept, perWeek: kept.length / weeks };
}

/** "1.5 incidents a week", "no incident", "under 0.1 incidents a week". */
export function rateText(perWeek: number): string {
  if (perWeek === 0) return "no incident";
  if (perWeek < 0.05) return "under 0.1 incidents a week";
  const n = perWeek >= 10 ? Math.round(perWeek).toString() : perWeek.toFixed(1);
  return `${n} incident${n === "1.0" || n === "1" ? "" : "s"} a week`;
}
