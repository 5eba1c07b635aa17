/** How the console writes times, durations and dimension values: UTC always, as the data's intervals are. */

const pad = (n: number) => String(n).padStart(2, "0");

/** `2021-03-03 10:00 UTC` from epoch ms. */
export function utc(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** `3 h`, `45 min`, `2 d 4 h`. */
export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

const INTERVAL_MS: Readonly<Record<string, number>> = { PT5M: 300_000, PT10M: 600_000, PT1H: 3_600_000, P1D: 86_400_000 };

/** The length of one interval of an L4M frequency (0 if unknown). */
export const intervalMs = (f: string | undefined) => INTERVAL_MS[f ?? ""] ?? 0;

/** L4M's frequencies as people say them. */
export function frequency(f: string | undefined): string {
  return ({ PT5M: "every 5 minutes", PT10M: "every 10 minutes", PT1H: "hourly", P1D: "daily" } as Record<string, string>)[f ?? ""] ?? f ?? "unknown";
}

export const dimensionText = (dims: readonly { DimensionName: string; DimensionValue: string }[]) => (dims.length ? dims.map((d) => `${d.DimensionName}=${d.DimensionValue}`).join(", ") : "all rows");

export type SeverityBand = "high" | "medium" | "low";

/** The bands an alert threshold usually falls in (L4M's console coloured groups the same way). */
export const severityBand = (score: number): SeverityBand => (score >= 70 ? "high" : score >= 40 ? "medium" : "low");

export const number = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: Math.abs(x) >= 100 ? 0 : 2 });

/** The resource name at the end of an ARN (`…:AnomalyDetector:shop` → `shop`). */
export const arnName = (arn: string) => arn.slice(Math.max(arn.lastIndexOf(":"), arn.lastIndexOf("/")) + 1);
