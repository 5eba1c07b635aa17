import { DateTime } from "luxon";
import { changePercent, primaryImpact, topContributors } from "../shared/incidents/contribution.ts";
import type { AnomalyGroupRecord } from "../shared/model/anomaly.ts";

/** "revenue −62 % vs expected, 2021-03-08 22:00 UTC for 3 h, severity 97: marketplace=de 81 %, platform=mobile_web 77 %" */
export function describeGroup(group: AnomalyGroupRecord, intervalMs: number): string {
  const impact = primaryImpact(group);
  const change = changePercent(impact);
  const sign = change >= 0 ? "+" : "−";
  const start = DateTime.fromMillis(group.startMs, { zone: "UTC" }).toFormat("yyyy-MM-dd HH:mm");
  const hours = (group.endMs - group.startMs + intervalMs) / 3_600_000;
  const duration = hours >= 1 ? `${Math.round(hours * 10) / 10} h` : `${Math.round(hours * 60)} min`;
  const causes = topContributors(impact, group.dimensionNames)
    .map((c) => `${c.name}=${c.value} ${Math.round(c.share)} %`)
    .join(", ");
  return `${impact.measure} ${sign}${Math.abs(Math.round(change))} % vs expected, ${start} UTC for ${duration}, severity ${Math.round(group.score)}${causes ? `: ${causes}` : ""}`;
}
