import type { Services } from "../app/index.ts";
import { VigilError } from "../model/errors.ts";
import type { ApiResponse } from "./router.ts";

/**
 * What the links in alert messages open, signed by the link (alerts/links.ts) instead of by
 * AWS credentials: `GET /anomaly-groups/<id>` is the group in L4M's shape (a page, with a
 * link to the console, for a browser that asks for HTML), and
 * `/anomaly-groups/<id>/feedback` a page where a person marks each of its series as an
 * anomaly or not (a form POSTed back to the same link).
 */
const PAGE = /^\/anomaly-groups\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\/feedback)?$/;

export const isPage = (path: string) => path.startsWith("/anomaly-groups/");

/**
 * Every answer to a link: it varies with Accept (a page or JSON), is the link holder's alone
 * (never cached on the way), and its links send no Referer (the page's address is the
 * link, signature and all).
 */
const LINK_HEADERS = { vary: "Accept", "cache-control": "private, no-store", "referrer-policy": "no-referrer" };

const html = (status: number, title: string, body: string): ApiResponse => ({
  status,
  headers: { "content-type": "text/html; charset=utf-8", "x-frame-options": "DENY", "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'", ...LINK_HEADERS },
  body: `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body style="font-family:Helvetica,Arial,sans-serif;max-width:52em;margin:2em auto">${body}</body></html>`,
});
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Whether a request is a browser's (a person who clicked the link), which reads a page rather than JSON: it accepts text/html, not at q=0. */
export const wantsHtml = (accept: string | undefined) =>
  (accept ?? "")
    .slice(0, 1024)
    .split(",")
    .some((range) => {
      const [type, ...params] = range.split(";").map((p) => p.trim().toLowerCase());
      return type === "text/html" && !params.some((p) => /^q=0(\.0*)?$/.test(p));
    });

/** The group a link opens, as a person reads it: what, when, which series, and where to see it whole. */
export function groupPage(found: { anomalyDetectorArn: string; anomalyGroup: { AnomalyGroupId: string; AnomalyGroupScore: number; PrimaryMetricName: string; StartTime: string; EndTime: string }; series: readonly { measure: string; dimensions: Readonly<Record<string, string>> }[] }): ApiResponse {
  const g = found.anomalyGroup;
  const shown = found.series.slice(0, MAX_SERIES_SHOWN);
  const rows = shown.map((s) => `<tr><td>${esc(s.measure)}</td><td>${esc(Object.entries(s.dimensions).map(([k, v]) => `${k}=${v}`).join(", "))}</td></tr>`).join("");
  const more = found.series.length > shown.length ? `<p>and ${found.series.length - shown.length} more series.</p>` : "";
  const inConsole = `/console/incident?${new URLSearchParams({ detector: found.anomalyDetectorArn, group: g.AnomalyGroupId }).toString()}`;
  return html(
    200,
    `Anomaly group ${g.AnomalyGroupId}`,
    `<h1>Anomaly group, severity ${g.AnomalyGroupScore}</h1><p>${esc(g.PrimaryMetricName)}, ${esc(g.StartTime)} – ${esc(g.EndTime)}<br>Detector ${esc(found.anomalyDetectorArn)}</p>` +
      `<table cellpadding="4"><tr><th>Measure</th><th>Series</th></tr>${rows}</table>${more}` +
      `<p><a href="${esc(inConsole)}">Open it in the console</a> (signed in to its account): each series charted against its expected band, and what was alerted. The message's feedback link tells Vigil whether it was an anomaly.</p>`,
  );
}

/** Series a group's page lists: its table stays readable; the console has them all. */
const MAX_SERIES_SHOWN = 50;

export async function page(services: Services, request: { method: string; path: string; query: string; body: string; accept?: string }): Promise<ApiResponse> {
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
    // A person who clicked the link reads a page; a program, the group in L4M's shape.
    if (wantsHtml(request.accept)) return groupPage(found);
    return { status: 200, headers: { "content-type": "application/json", ...LINK_HEADERS }, body: JSON.stringify({ AnomalyDetectorArn: found.anomalyDetectorArn, MetricSetArn: found.metricSetArn, AnomalyGroup: l4m }) };
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
