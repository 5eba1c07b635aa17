import type { AlertMessage } from "../../alerts/message.ts";
import { textChart } from "./chart.ts";
import { arrow, duration, intervalAt, num, pct, shown } from "./format.ts";

/**
 * L4M's SnsFormat LONG_TEXT and SHORT_TEXT, and the plain-text part of emails: readable on a
 * phone. Values from the data are `shown`: one line each, so none can forge a line.
 */

const WHY: Record<AlertMessage["reason"], string> = {
  first: "new",
  severityChanged: "more severe",
  grew: "spreading",
  repeatElapsed: "still going",
  ended: "ended",
};

export function subjectOf(m: AlertMessage): string {
  const what = `${m.measure} ${arrow(m.direction)} ${pct(m.changePercent)}`;
  const where = m.contributors[0] ? ` in ${m.contributors[0].name}=${shown(m.contributors[0].value)}` : "";
  return `[${m.ended ? "ENDED" : m.severity}] ${m.detector.name}: ${what}${where} (${WHY[m.reason]})`;
}

export function shortText(m: AlertMessage): string {
  return `${subjectOf(m)} — severity ${num(m.score)}, since ${intervalAt(m.start, m.chart.intervalMs)}. ${m.links.anomalyGroup}`;
}

export function longText(m: AlertMessage): string {
  const lines = [
    subjectOf(m),
    "",
    `Severity ${num(m.score)} (${m.severity})${m.ended ? ", ended" : ""}`,
    `${m.measure}: ${num(m.actual)} against ${num(m.expected)} expected (${pct(m.changePercent)})`,
    `Started ${intervalAt(m.start, m.chart.intervalMs)}, ${m.ended ? "lasted" : "lasting"} ${duration(m.end - m.start)}`,
    "",
    "Top contributors:",
    ...m.contributors.slice(0, 5).map((c) => `  ${c.name}=${shown(c.value)}  ${num(c.share)}%`),
    "",
    `Last ${m.chart.actual.length} intervals:`,
    ...textChart(m.chart).map((l) => `  ${l}`),
    "",
    `Anomaly group ${m.anomalyGroupId}`,
    `Alert ${m.alert.name} on detector ${m.detector.name}`,
    `Details: ${m.links.anomalyGroup}`,
    `Feedback: ${m.links.feedback}`,
  ];
  return lines.join("\n");
}
