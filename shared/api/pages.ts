import type { Services } from "../app/index.ts";
import { VigilError } from "../model/errors.ts";
import type { ApiResponse } from "./router.ts";

/**
 * What the links in alert messages open, signed by the link (alerts/links.ts) instead of by
 * AWS credentials: `GET /anomaly-groups/<id>` is the group in L4M's shape, and
 * `/anomaly-groups/<id>/feedback` a page where a person marks each of its series as an
 * anomaly or not (a form POSTed back to the same link).
 */
const PAGE = /^\/anomaly-groups\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\/feedback)?$/;

export const isPage = (path: string) => path.startsWith("/anomaly-groups/");

const html = (status: number, title: string, body: string): ApiResponse => ({
  status,
  headers: { "content-type": "text/html; charset=utf-8", "x-frame-options": "DENY", "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'" },
  body: `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body style="font-family:Helvetica,Arial,sans-serif;max-width:52em;margin:2em auto">${body}</body></html>`,
});
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export async function page(services: Services, request: { method: string; path: string; query: string; body: string }): Promise<ApiResponse> {
  const m = PAGE.exec(request.path);
  if (!m) return html(404, "Not found", "<h1>Not found</h1>");
  // Its use cases are loaded when a link is first opened: the api function's other routes never read them.
  const { feedbackByLink, linkedGroup, verifiedLink } = await import("../app/index.ts");
  const query = new URLSearchParams(request.query);
  const link = verifiedLink(services, request.path, query);
  if (!link.ok) return html(403, "Link refused", `<h1>This link cannot be used</h1><p>${esc(link.reason)}.</p>`);
  const groupId = m[1]!;
  // The account signed into the link: a group of any other account is not there for it.
  const found = await linkedGroup(services, link.accountId, groupId);
  if (!found) return html(404, "Not found", "<h1>This anomaly group no longer exists</h1>");
  const l4m = found.anomalyGroup;
  if (!m[2]) {
    if (request.method !== "GET") return html(405, "Not allowed", "<h1>Not allowed</h1>");
    return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ AnomalyDetectorArn: found.anomalyDetectorArn, MetricSetArn: found.metricSetArn, AnomalyGroup: l4m }) };
  }
  let said = "";
  if (request.method === "POST") {
    const form = new URLSearchParams(request.body);
    const seriesId = form.get("TimeSeriesId") ?? "";
    const verdict = form.get("IsAnomaly");
    if (verdict !== "true" && verdict !== "false") return html(400, "Bad request", "<h1>IsAnomaly must be true or false</h1>");
    try {
      if (!(await feedbackByLink(services, link.accountId, groupId, seriesId, verdict === "true"))) return html(404, "Not found", "<h1>This anomaly group no longer exists</h1>");
    } catch (e) {
      if (e instanceof VigilError && e.httpStatus < 500) return html(400, "Bad request", `<h1>${esc(e.message)}</h1>`);
      throw e;
    }
    said = `<p style="background:#e6f4ea;padding:.5em">Thank you: noted as ${verdict === "true" ? "an anomaly" : "not an anomaly"}. Vigil learns it at its next interval.</p>`;
  } else if (request.method !== "GET") return html(405, "Not allowed", "<h1>Not allowed</h1>");
  const action = esc(`${request.path}?${request.query}`);
  const rows = found.series
    .map(
      (s) =>
        `<tr><td>${esc(s.measure)}</td><td>${esc(Object.entries(s.dimensions).map(([k, v]) => `${k}=${v}`).join(", "))}</td><td>` +
        ["true", "false"]
          .map((v) => `<form method="post" action="${action}" style="display:inline"><input type="hidden" name="TimeSeriesId" value="${esc(s.timeSeriesId)}"><input type="hidden" name="IsAnomaly" value="${v}"><button>${v === "true" ? "An anomaly" : "Not an anomaly"}</button></form>`)
          .join(" ") +
        "</td></tr>",
    )
    .join("");
  return html(
    200,
    `Anomaly group ${l4m.AnomalyGroupId}`,
    `<h1>Anomaly group, severity ${l4m.AnomalyGroupScore}</h1>${said}<p>${esc(l4m.PrimaryMetricName)}, ${esc(l4m.StartTime)} – ${esc(l4m.EndTime)}<br>Detector ${esc(found.anomalyDetectorArn)}</p><table cellpadding="4"><tr><th>Measure</th><th>Series</th><th>Was this an anomaly?</th></tr>${rows}</table>`,
  );
}
