import type { GroupChart } from "../../model/anomaly-event.ts";

/**
 * A chart in text, for every channel that shows monospace text (Slack, email, SNS):
 * the actual values as a sparkline over the expected one on the same scale, and a row
 * marking the intervals outside the expected band. Gaps show as blanks.
 */
const BARS = "▁▂▃▄▅▆▇█";

export function textChart(chart: GroupChart): string[] {
  const values = [...chart.actual, ...chart.expected].filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return [];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const bar = (v: number | null) => (v === null ? " " : BARS[hi > lo ? Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1)) : 0]!);
  const marks = chart.actual.map((v, i) => {
    const l = chart.lower[i];
    const u = chart.upper[i];
    if (v === null || l === null || u === null || l === undefined || u === undefined) return " ";
    return v > u ? "↑" : v < l ? "↓" : "·";
  });
  return [`actual   ${chart.actual.map(bar).join("")}`, `expected ${chart.expected.map(bar).join("")}`, `outside  ${marks.join("")}`];
}
