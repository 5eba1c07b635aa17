import { metricSetRoot, toJsonLines } from "../detect/results.ts";
import { canonicalCsv, canonicalTemplate } from "../ingest/canonical.ts";
import { joinUri, renderTemplate } from "../model/path-template.ts";
import { classifyPushedRows } from "../ingest/pushed-rows.ts";
import type { PutMetricRowsRequest } from "../model/push.ts";
import type { RejectedRow } from "../ingest/rows.ts";
import { ValidationException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { executionKey, type IntervalExecution } from "./detect.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** How many rejected rows an answer lists; all of them are kept in the rejects file. */
const LISTED_REJECTS = 100;

export interface PutMetricRowsResponse {
  readonly RowsAccepted: number;
  readonly RowsRejected: number;
  /** The first rejected rows, by their index in the request (from 0), with why. */
  readonly Rejects: readonly { readonly Index: number; readonly Reason: string; readonly Message: string }[];
  /** Where all rejected rows are kept. */
  readonly RejectsFile?: string;
}

/**
 * `PutMetricRows`: rows pushed to an HttpPushConfig metric set become one canonical file
 * per interval and request (the ClientToken, else the request id) beside the ingested
 * files, which detection reads as it reads CloudWatch's. Rows for an interval that was
 * already detected, or more than an interval ahead of now, are refused with the reason;
 * nothing is written before the whole request is judged.
 */
export async function putMetricRows(deps: Services, scope: Scope, req: PutMetricRowsRequest, requestId: string): Promise<PutMetricRowsResponse> {
  const now = deps.clock();
  const metricSet = await catalogOf(deps, scope).getMetricSet(req.MetricSetArn);
  if (!metricSet.MetricSource.HttpPushConfig) {
    throw new ValidationException(`Metric set ${metricSet.MetricSetName} does not take pushed rows: its source is not HttpPushConfig`, { fields: [{ Name: "MetricSetArn", Message: "names a metric set without an HttpPushConfig source" }] });
  }
  const token = req.ClientToken ?? requestId.replace(/[^A-Za-z0-9_-]/g, "_");
  const len = intervalMs(metricSet.MetricSetFrequency);
  const { intervals, rejects } = classifyPushedRows(metricSet, req.Rows, len, `PutMetricRows:${token}`);
  for (const [start, rows] of [...intervals]) {
    const run = await deps.records.get<IntervalExecution>("executions", executionKey(metricSet, start));
    const late = run && run.Status !== "PENDING";
    const early = start > now + len;
    if (!late && !early) continue;
    intervals.delete(start);
    const detail = late ? `the interval starting ${new Date(start).toISOString()} was already detected` : `the interval starting ${new Date(start).toISOString()} is in the future`;
    for (const r of rows) rejects.push({ file: `PutMetricRows:${token}`, line: r.line, reason: "OUTSIDE_INTERVAL", detail, partial: false, row: { timestamp: new Date(r.timestamp).toISOString() } });
  }

  const root = metricSetRoot(deps.resultsRoot, metricSet);
  for (const [start, rows] of intervals) {
    const folder = renderTemplate(canonicalTemplate(root), start, metricSet.Timezone ?? "UTC");
    await deps.blobs.put(joinUri(folder, `push-${token}.csv`), canonicalCsv(metricSet, rows));
  }
  const rejectsFile = rejects.length ? joinUri(root, "pushed-rejects", new Date(now).toISOString().slice(0, 10), `${token}.jsonl`) : undefined;
  if (rejectsFile) await deps.blobs.put(rejectsFile, toJsonLines(rejects), "rejects");
  const accepted = [...intervals.values()].reduce((n, rows) => n + rows.length, 0);
  return {
    RowsAccepted: accepted,
    RowsRejected: new Set(rejects.filter((r) => !r.partial).map((r) => r.line)).size,
    Rejects: rejects.slice(0, LISTED_REJECTS).map((r: RejectedRow) => ({ Index: r.line - 1, Reason: r.reason, Message: r.detail })),
    ...(rejectsFile ? { RejectsFile: rejectsFile } : {}),
  };
}
