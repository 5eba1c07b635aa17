/** How numbers, times and durations read in every message (UTC, en-US digits). */
const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

export const num = (x: number) => number.format(x);

export const pct = (x: number | null) => (x === null ? "n/a" : `${x > 0 ? "+" : x < 0 ? "−" : ""}${number.format(Math.abs(x))}%`);

export const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** When an interval starts, as a message says it: a day (P1D) by its date alone, which for a metric set of a zone is the date there (interval-time.ts), not a UTC midnight. */
export const intervalAt = (ms: number, intervalMs: number) => (intervalMs >= 86_400_000 ? new Date(ms).toISOString().slice(0, 10) : utc(ms));

export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export const arrow = (direction: "UP" | "DOWN") => (direction === "UP" ? "▲" : "▼");

/** At most `max` characters, cut between code points (never inside a surrogate pair), "…" marking a cut. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const points = [...s];
  return points.length <= max ? s : `${points.slice(0, max - 1).join("")}…`;
}

/**
 * A value from the data (a dimension value) as a message shows it: on one line, without
 * control, line-separator or bidirectional-override characters (which could forge lines,
 * break a subject header or reorder what a reader sees), and at most `max` characters,
 * so no value can push a message past a channel's limits.
 */
export const shown = (value: string, max = 64) => truncate(value.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]+/gu, " "), max);
