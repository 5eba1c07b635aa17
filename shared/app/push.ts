import { createHash } from "node:crypto";
import { metricSetRoot, toJsonLines } from "../detect/results.ts";
import { canonicalCsv, canonicalTemplate } from "../ingest/canonical.ts";
import { joinUri, renderTemplate } from "../model/path-template.ts";
import { instantOf, intervalNamed, lastClosedInterval, templateZone } from "../model/interval-time.ts";
import { classifyPushedRows, type PushedRow, type PushedRows } from "../ingest/pushed-rows.ts";
import type { PutMetricRowsRequest } from "../model/push.ts";
import type { RejectedRow } from "../ingest/rows.ts";
import { ConflictException, TooManyRequestsException, ValidationException } from "../model/errors.ts";
import { metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { intervalMs } from "../model/frequency.ts";
import { HISTORY_REACH_MS } from "../model/history-reach.ts";
import { awaitsRun, executionKey, holdInterval, markAwaiting, MAX_CATCH_UP, releaseInterval, type IntervalExecution } from "./detect.ts";
import { readModel } from "../detect/shard-model.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** The folder of a metric set's results where rejected pushed rows are kept. */
export const PUSHED_REJECTS = "pushed-rejects";

/** Intervals one request may write files in (a file each): a year of hourly rows is ten requests, not one that writes 10,000 files. */
export const MAX_PUSHED_INTERVALS = 1_000;

/** How many rejected rows an answer lists; all of them are kept in the rejects file. */
const LISTED_REJECTS = 100;

export interface PutMetricRowsResponse {
  readonly RowsAccepted: number;
  readonly RowsRejected: number;
  /** The first rejected rows, by their index in the request (from 0), with why. */
  readonly Rejects: readonly { readonly Index: number; readonly Reason: string; readonly Message: string }[];
  /** Where all rejected rows are kept: a path within the metric set's results, not where they lie on Vigil's storage. */
  readonly RejectsFile?: string;
}

/** What is kept of a request made with a ClientToken: its rows' fingerprint, then its answer. */
interface PushRecord {
  readonly rows: string;
  readonly response?: PutMetricRowsResponse;
}

/** A ClientToken is the metric set's (so the tenant's): another metric set may use the same one. */
const pushKey = (metricSet: Pick<MetricSet, "MetricSetArn">, token: string) => `${metricSetKey(metricSet.MetricSetArn)}/${token}`;
const fingerprintOf = (rows: readonly unknown[]) => createHash("sha256").update(JSON.stringify(rows)).digest("hex");
/** Long after any interval a token's rows went to was detected. */
const TOKEN_RETENTION_MS = 90 * 86_400_000;

/**
 * `PutMetricRows`: rows pushed to an HttpPushConfig metric set become one canonical file
 * per interval and request (the ClientToken, else the request id) beside the ingested
 * files, which detection reads as it reads CloudWatch's. Rows for an interval that was
 * already detected, more than an interval ahead of now, or more than a year old, are
 * refused with the reason; a request whose rows fall in more than
 * MAX_PUSHED_INTERVALS intervals is refused whole. Nothing is written before the whole
 * request is judged. Each interval is held against runs while its file is written
 * (`holdIntervals`), so a row taken is a row its interval's run reads. A ClientToken is taken once per
 * metric set, by a conditional write, before any file: the same token with the same rows
 * again answers as the first request did (a client's retry), with other rows it is
 * refused with ConflictException (L4M's rule for a token reused for another request) and
 * nothing is overwritten.
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
  outOfTimeRefused(metricSet, intervals, rejects, now, len, `PutMetricRows:${token}`);
  if (intervals.size > MAX_PUSHED_INTERVALS) {
    throw new ValidationException(`The rows fall in ${intervals.size} intervals; a request may write at most ${MAX_PUSHED_INTERVALS}: send them in parts`, { fields: [{ Name: "Rows", Message: `fall in ${intervals.size} intervals, more than ${MAX_PUSHED_INTERVALS}` }] });
  }
  const kept = req.ClientToken ? await takeToken(deps, metricSet, req.ClientToken, fingerprintOf(req.Rows), now) : undefined;
  if (kept?.response) return kept.response;
  const file = `PutMetricRows:${token}`;
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  const held = await holdIntervals(deps, metricSet, intervals, now, rejects, file);
  await refusePassed(deps, metricSet, intervals, held, now, rejects, file);
  try {
    for (const [start, rows] of intervals) await deps.blobs.put(joinUri(renderTemplate(canonicalTemplate(root), start, templateZone(metricSet)), `push-${token}.csv`), canonicalCsv(metricSet, rows));
  } finally {
    await releaseAll(deps, metricSet, held);
  }
  const rejectsFile = rejects.length ? `${PUSHED_REJECTS}/${new Date(now).toISOString().slice(0, 10)}/${token}.jsonl` : undefined;
  if (rejectsFile) await deps.blobs.put(joinUri(root, rejectsFile), toJsonLines(rejects), "rejects");
  const accepted = [...intervals.values()].reduce((n, rows) => n + rows.length, 0);
  const response: PutMetricRowsResponse = {
    RowsAccepted: accepted,
    RowsRejected: new Set(rejects.filter((r) => !r.partial).map((r) => r.line)).size,
    Rejects: rejects.slice(0, LISTED_REJECTS).map((r: RejectedRow) => ({ Index: r.line - 1, Reason: r.reason, Message: r.detail })),
    ...(rejectsFile ? { RejectsFile: rejectsFile } : {}),
  };
  if (req.ClientToken && kept) await deps.records.put("pushes", pushKey(metricSet, req.ClientToken), { rows: kept.rows, response } satisfies PushRecord, { expiresAt: now + TOKEN_RETENTION_MS });
  return response;
}

/** How long a push holds an interval against runs: far longer than writing its file takes. */
const HOLD_MS = 60_000;
/** Another push holding an interval is waited for this often, this far apart, before the request is refused as one to send again. */
const HOLD_TRIES = 40;
const HOLD_WAIT_MS = 50;
/** Intervals held at once. */
const HOLDS_AT_ONCE = 25;

/**
 * Holds every interval the rows fall in against runs before any file is written (their
 * run's lease, `holdInterval`): a run lists an interval's files only once it holds it, so
 * rows written under the hold are read by its run, and rows for an interval whose run began
 * (or ended) are refused with why rather than accepted and never read. Answers each held
 * interval's term; the rows of the others move to `rejects`. Held by another push still
 * after HOLD_TRIES: TooManyRequestsException, every hold given back, nothing written.
 */
async function holdIntervals(deps: Services, metricSet: MetricSet, intervals: PushedRows["intervals"], now: number, rejects: RejectedRow[], file: string): Promise<Map<number, number>> {
  const held = new Map<number, number>();
  const starts = [...intervals.keys()].sort((a, b) => a - b);
  try {
    for (let i = 0; i < starts.length; i += HOLDS_AT_ONCE) {
      const part = starts.slice(i, i + HOLDS_AT_ONCE);
      const holds = await Promise.allSettled(part.map((start) => holdOne(deps, metricSet, start, now)));
      holds.forEach((hold, k) => {
        if (hold.status === "fulfilled" && typeof hold.value === "number") held.set(part[k]!, hold.value);
      });
      const failed = holds.find((hold) => hold.status === "rejected");
      if (failed) throw failed.reason;
      holds.forEach((hold, k) => {
        if (hold.status !== "fulfilled" || typeof hold.value === "number") return;
        refuse(rejects, intervals.get(part[k]!)!, file, `the interval ${intervalNamed(metricSet, part[k]!)} ${hold.value}`);
        intervals.delete(part[k]!);
      });
    }
    return held;
  } catch (e) {
    await releaseAll(deps, metricSet, held);
    throw e;
  }
}

/** One interval held (its term), or why its rows are refused. */
async function holdOne(deps: Services, metricSet: MetricSet, start: number, now: number): Promise<number | string> {
  for (let tries = 1; ; tries++) {
    const until = await holdInterval(deps, metricSet, start, now, HOLD_MS);
    let run: IntervalExecution | undefined;
    try {
      run = await deps.records.get<IntervalExecution>("executions", executionKey(metricSet, start));
    } catch (e) {
      if (until !== undefined) await releaseInterval(deps, metricSet, start, until);
      throw e;
    }
    if (run && !awaitsRun(run)) {
      if (until !== undefined) await releaseInterval(deps, metricSet, start, until);
      return run.Status === "IN_PROGRESS" ? "is being detected" : "was already detected";
    }
    if (until !== undefined) return until;
    // Held, while its record still awaits a run: another push writing, or a run about to record that it began.
    if (tries === HOLD_TRIES) throw new TooManyRequestsException(`Rows for the interval ${intervalNamed(metricSet, start)} are being written by another request: send these again in a moment`);
    await deps.timer.sleep(HOLD_WAIT_MS, NEVER);
  }
}

const NEVER = new AbortController().signal;

/**
 * Refuses, once held, the rows of intervals detection will not run: those its model went
 * past (detected, or passed over for want of rows, whose records may have expired), and
 * those older than the intervals a catch-up reaches (MAX_CATCH_UP), which it would pass
 * over; the others are marked as awaiting their run, so detection does not go past them
 * for want of rows while they are written (`markAwaiting`). A model that cannot be read is
 * not judged by (its intervals' records still are).
 */
async function refusePassed(deps: Services, metricSet: MetricSet, intervals: PushedRows["intervals"], held: Map<number, number>, now: number, rejects: RejectedRow[], file: string): Promise<void> {
  if (!held.size) return;
  const through = await readModel(deps.blobs, metricSetRoot(deps.resultsRoot, metricSet)).then((model) => model?.head.through, () => undefined);
  // Before a model has run an interval, rows are its history, which the first run reads whole.
  if (through === undefined || Number.isNaN(through)) return;
  const len = intervalMs(metricSet.MetricSetFrequency);
  const windowStart = lastClosedInterval(metricSet, now) - (MAX_CATCH_UP - 1) * len;
  for (const [start, until] of [...held]) {
    const why = start <= through ? `was passed by detection, which has run through the interval ${intervalNamed(metricSet, through)}` : start < windowStart ? `is older than the ${MAX_CATCH_UP} intervals detection catches up, and would be passed over` : undefined;
    if (!why) continue;
    await releaseInterval(deps, metricSet, start, until);
    held.delete(start);
    refuse(rejects, intervals.get(start)!, file, `the interval ${intervalNamed(metricSet, start)} ${why}`);
    intervals.delete(start);
  }
  await markAwaiting(deps, metricSet, [...held.keys()], now);
}

async function releaseAll(deps: Services, metricSet: MetricSet, held: ReadonlyMap<number, number>): Promise<void> {
  await Promise.all([...held].map(([start, until]) => releaseInterval(deps, metricSet, start, until)));
}

/** Rows refused for the interval they fall in, kept with why. */
function refuse(rejects: RejectedRow[], rows: readonly PushedRow[], file: string, detail: string): void {
  for (const r of rows) rejects.push({ file, line: r.line, reason: "OUTSIDE_INTERVAL", detail, partial: false, row: { timestamp: new Date(r.timestamp).toISOString() } });
}

/**
 * Refuses the rows of intervals more than an interval ahead of now, or further back than any
 * history Vigil reads (HISTORY_REACH_MS: a year, whatever the frequency, so that a history
 * pushed for a back-test is taken in full): no detection would read them, and each would be
 * a file of its own on the tenants' disk. Neither needs a read, so they are refused before
 * the request's intervals are counted.
 */
function outOfTimeRefused(metricSet: MetricSet, intervals: PushedRows["intervals"], rejects: RejectedRow[], now: number, len: number, file: string): void {
  for (const [start, rows] of [...intervals]) {
    const at = instantOf(metricSet, start);
    if (at >= now - HISTORY_REACH_MS && at <= now + len) continue;
    intervals.delete(start);
    refuse(rejects, rows, file, `the interval ${intervalNamed(metricSet, start)} ${at > now ? "is in the future" : `is more than ${HISTORY_REACH_MS / 86_400_000} days old, further back than Vigil reads a history`}`);
  }
}

/**
 * Takes the token for these rows. Taken before with the same rows: what was kept of it (its
 * answer, or none yet when that request has not finished, whose files are written again,
 * the same). Taken with other rows: ConflictException.
 */
async function takeToken(deps: Pick<Services, "records">, metricSet: MetricSet, token: string, rows: string, now: number): Promise<PushRecord> {
  const key = pushKey(metricSet, token);
  // Kept as long as its answer would be, should the request stop before it answers.
  const [taken] = await deps.records.putMany([{ table: "pushes", id: key, value: { rows } satisfies PushRecord, expiresAt: now + TOKEN_RETENTION_MS, ifAbsent: true }]);
  if (taken) return { rows };
  const prior = await deps.records.get<PushRecord>("pushes", key);
  if (prior && prior.rows !== rows) throw new ConflictException(`ClientToken ${token} was used before with other rows for metric set ${metricSet.MetricSetName}: send new rows with a new token`, token, "ClientToken");
  return prior ?? { rows };
}
