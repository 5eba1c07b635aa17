/** How numbers, times and durations read in every message (UTC, en-US digits). */
const number = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

export const num = (x: number) => number.format(x);

export const pct = (x: number | null) => (x === null ? "n/a" : `${x > 0 ? "+" : x < 0 ? "−" : ""}${number.format(Math.abs(x))}%`);

export const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export const arrow = (direction: "UP" | "DOWN") => (direction === "UP" ? "▲" : "▼");
