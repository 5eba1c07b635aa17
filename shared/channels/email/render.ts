import type { AlertMessage } from "../../alerts/message.ts";
import { textChart } from "../common/chart.ts";
import { arrow, duration, intervalAt, num, pct, shown } from "../common/format.ts";
import { longText, subjectOf } from "../common/text.ts";

/**
 * An email with the same content in HTML and plain text. The chart is drawn twice: as
 * table cells (mail clients drop SVG and scripts) and as the text chart.
 */
export function emailMessage(m: AlertMessage): { subject: string; text: string; html: string } {
  return { subject: subjectOf(m), text: longText(m), html: html(m) };
}

function html(m: AlertMessage): string {
  const rows = m.contributors
    .slice(0, 5)
    .map((c) => `<tr><td style="padding:2px 12px 2px 0">${esc(c.name)}=${esc(shown(c.value))}</td><td style="text-align:right">${num(c.share)}%</td></tr>`)
    .join("");
  return `<!doctype html><html><body style="font-family:Helvetica,Arial,sans-serif;color:#1d1c1d">
<div style="border-left:6px solid ${m.ended ? "#2eb67d" : m.color};padding:4px 12px">
<h2 style="margin:4px 0">${esc(subjectOf(m))}</h2>
<p>Severity <b>${num(m.score)}</b> (${m.severity})${m.ended ? ", ended" : ""}<br>
<b>${esc(m.measure)}</b> ${arrow(m.direction)} ${num(m.actual)} against ${num(m.expected)} expected (${pct(m.changePercent)})<br>
Started ${intervalAt(m.start, m.chart.intervalMs)}, ${m.ended ? "lasted" : "lasting"} ${duration(m.end - m.start)}</p>
<h3 style="margin:8px 0 4px">Top contributors</h3>
<table style="border-collapse:collapse">${rows}</table>
<h3 style="margin:8px 0 4px">Last ${m.chart.actual.length} intervals</h3>
${barChart(m)}
<pre style="font-size:12px">${esc(textChart(m.chart).join("\n"))}</pre>
<p style="color:#616061">Anomaly group ${esc(m.anomalyGroupId)} · alert ${esc(m.alert.name)} · detector ${esc(m.detector.name)}<br>
<a href="${esc(m.links.anomalyGroup)}">Open the group</a> · <a href="${esc(m.links.feedback)}">Give feedback</a></p>
</div></body></html>`;
}

/** Bars of the actual values, grey where inside the expected band and coloured outside it. */
function barChart(m: AlertMessage): string {
  const { actual, lower, upper } = m.chart;
  const top = Math.max(1e-9, ...actual.filter((v): v is number => v !== null), ...upper.filter((v): v is number => v !== null));
  const cells = actual
    .map((v, i) => {
      const height = v === null ? 0 : Math.max(1, Math.round((Math.max(0, v) / top) * 60));
      const outside = v !== null && ((upper[i] != null && v > upper[i]!) || (lower[i] != null && v < lower[i]!));
      return `<td style="vertical-align:bottom;padding:0 1px"><div title="${v === null ? "no value" : num(v)}" style="width:8px;height:${height}px;background:${outside ? m.color : "#c7c7c7"}"></div></td>`;
    })
    .join("");
  return `<table style="border-collapse:collapse;height:64px"><tr>${cells}</tr></table>`;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
