import { createHash } from "node:crypto";
import { metricSetRoot, toJsonLines } from "../detect/results.ts";
import { canonicalCsv, canonicalTemplate } from "../ingest/canonical.ts";
import { joinUri, renderTemplate } from "../model/path-template.ts";
import { instantOf, intervalNamed, lastClosedInterval, templateZone } from "../model/interval-time.ts";
import { classifyPushedRows, type PushedRow, type PushedRows } from "../ingest/pushed-rows.ts";
import type { PutMetricRowsRequest } from "../model/push.ts";
import type { RejectedRow } from "../ingest/rows.ts";
import { ConflictException, ResourceNotFoundException, ValidationException } from "../model/errors.ts";
import { notDeleting, type Catalog } from "../catalog/catalog.ts";
import type { AnomalyDetector } from "../model/detector.ts";
import { metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { intervalMs } from "../model/frequency.ts";
import { HISTORY_REACH_MS } from "../model/history-reach.ts";
import { awaitsRun, endPushHolds, executionKey, historyBeingLearned, holdForPush, holdsStill, markAwaiting, MAX_CATCH_UP, passedThrough, PUSH_HOLD_MS, type IntervalExecution } from "./detect.ts";
import { readModel } from "../detect/shard-model.ts";
import { catalogOf, type Scope } from "./scope.ts";
import { retentionStart, type Services } from "./services.ts";

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
 * already detected or that detection will not run, more than an interval ahead of now, or
 * more than a year old, are refused with the reason; a request whose rows fall in more than
 * MAX_PUSHED_INTERVALS intervals is refused whole. Nothing is written before the whole
 * request is judged. Each interval is held while its file is written (`holdForPush`: a run
 * that begins meanwhile waits for the rows), so a row taken is a row its interval's run
 * reads; requests do not wait for one another. A ClientToken is taken once per
 * metric set, by a conditional write, before any file: the same token with the same rows
 * again answers as the first request did (a client's retry), with other rows it is
 * refused with ConflictException (L4M's rule for a token reused for another request) and
 * nothing is overwritten.
 */
export async function putMetricRows(deps: Services, scope: Scope, req: PutMetricRowsRequest, requestId: string): Promise<PutMetricRowsResponse> {
  const now = deps.clock();
  const catalog = catalogOf(deps, scope);
  const metricSet = await catalog.getMetricSet(req.MetricSetArn);
  const detector = notDeleting(await catalog.getDetector(metricSet.AnomalyDetectorArn));
  if (!metricSet.MetricSource.HttpPushConfig) {
    throw new ValidationException(`Metric set ${metricSet.MetricSetName} does not take pushed rows: its source is not HttpPushConfig`, { fields: [{ Name: "MetricSetArn", Message: "names a metric set without an HttpPushConfig source" }] });
  }
  // The request's own id as a name: its hold's, and its file's without a ClientToken.
  const requestKey = requestId.replace(/[^A-Za-z0-9_-]/g, "_");
  const token = req.ClientToken ?? requestKey;
  const file = `PutMetricRows:${token}`;
  const { intervals, rejects } = rowsByInterval(metricSet, req.Rows, now, file);
  const kept = req.ClientToken ? await takeToken(deps, metricSet, req.ClientToken, fingerprintOf(req.Rows), now) : undefined;
  if (kept?.response) return kept.response;
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  const rejectsFile = `${PUSHED_REJECTS}/${new Date(now).toISOString().slice(0, 10)}/${token}.jsonl`;
  const push: Push = { deps, catalog, metricSet, detector, now, intervals, rejects, file, fileOf: (start) => joinUri(renderTemplate(canonicalTemplate(root), start, templateZone(metricSet)), `push-${token}.csv`), rejectsUri: joinUri(root, rejectsFile), takesBackOnFailure: !req.ClientToken };
  const readEarlier = kept?.again ? await readBefore(push) : undefined;
  // Rows sure to be refused hold nothing: a client sending them again and again must not make detection give way to it.
  await refuseNotAwaiting(push);
  await writeHeld(push, requestKey);
  for (const [start, rows] of readEarlier ?? []) intervals.set(start, rows);
  const response: PutMetricRowsResponse = {
    RowsAccepted: [...intervals.values()].reduce((n, rows) => n + rows.length, 0),
    RowsRejected: new Set(rejects.filter((r) => !r.partial).map((r) => r.line)).size,
    Rejects: rejects.slice(0, LISTED_REJECTS).map((r: RejectedRow) => ({ Index: r.line - 1, Reason: r.reason, Message: r.detail })),
    ...(rejects.length ? { RejectsFile: rejectsFile } : {}),
  };
  if (req.ClientToken && kept) await deps.records.put("pushes", pushKey(metricSet, req.ClientToken), { rows: kept.rows, response } satisfies PushRecord, { expiresAt: retentionStart(deps, now) + TOKEN_RETENTION_MS });
  // After the last write: a deletion that purged the metric set meanwhile leaves no answer under the token, which the same request to a metric set made again would be given.
  if (req.ClientToken) await takenBackUnlessDetector(push, () => deps.records.delete("pushes", pushKey(metricSet, req.ClientToken!)));
  return response;
}

/** One request's rows on their way to their intervals' files: what is taken (`intervals`) and what is refused, with why (`rejects`), as it goes. */
interface Push {
  readonly deps: Services;
  readonly catalog: Catalog;
  readonly metricSet: MetricSet;
  readonly detector: AnomalyDetector;
  readonly now: number;
  readonly intervals: PushedRows["intervals"];
  readonly rejects: RejectedRow[];
  /** Where the rejects say the rows came from. */
  readonly file: string;
  /** The request's file in an interval's folder. */
  readonly fileOf: (start: number) => string;
  /** Where the request's rejected rows are kept, when it has any. */
  readonly rejectsUri: string;
  /** Without a ClientToken a failed request's files are its own, taken back; with one, its retry writes the same files. */
  readonly takesBackOnFailure: boolean;
}

/** The rows classified by interval, those no history reaches refused, and the request refused whole past MAX_PUSHED_INTERVALS. */
function rowsByInterval(metricSet: MetricSet, rows: readonly unknown[], now: number, file: string): PushedRows {
  const len = intervalMs(metricSet.MetricSetFrequency);
  const pushed = classifyPushedRows(metricSet, rows, len, file);
  outOfTimeRefused(metricSet, pushed.intervals, pushed.rejects, now, len, file);
  if (pushed.intervals.size > MAX_PUSHED_INTERVALS) {
    throw new ValidationException(`The rows fall in ${pushed.intervals.size} intervals; a request may write at most ${MAX_PUSHED_INTERVALS}: send them in parts`, { fields: [{ Name: "Rows", Message: `fall in ${pushed.intervals.size} intervals, more than ${MAX_PUSHED_INTERVALS}` }] });
  }
  return pushed;
}

/**
 * Holds the intervals (`holdForPush`: a run that begins now waits for the rows; one that
 * began before is seen by judging again), judges them again, says the taken ones await their
 * runs, writes their files and checks what may have changed meanwhile; the holds end as
 * written, or dropped for the intervals refused.
 */
async function writeHeld(push: Push, hold: string): Promise<void> {
  const { deps, metricSet, intervals } = push;
  const starts = [...intervals.keys()];
  const until = await holdForPush(deps, metricSet, starts, hold, push.now);
  const refused = () => starts.filter((t) => !intervals.has(t));
  try {
    const ran = await refuseNotAwaiting(push);
    await endPushHolds(deps, metricSet, [], refused(), hold, until);
    // Once a model has run an interval, the others await theirs: said so, they are not passed over unseen while being written.
    if (ran) await markAwaiting(deps, metricSet, [...intervals.keys()], push.now);
    await writeFiles(push, async () => {
      if (!holdsStill(deps, until)) await refuseAll(push, `the request took longer than its hold on the interval (${PUSH_HOLD_MS / 1000} s), and its run may have read the interval without them`);
      if (push.rejects.length) await deps.blobs.put(push.rejectsUri, toJsonLines(push.rejects), "rejects");
    });
  } finally {
    await endPushHolds(deps, metricSet, [...intervals.keys()], refused(), hold, until);
  }
}

/**
 * Writes the files, refuses what was passed over or purged meanwhile, then does `last` (the
 * rejects file is written there); a failure of any of it takes back what was written
 * (`takesBackOnFailure`) and refuses every row: a request answered as failed keeps no row,
 * which its retry would otherwise add again.
 */
async function writeFiles(push: Push, last: () => Promise<void>): Promise<void> {
  const { deps, metricSet, intervals } = push;
  const written: number[] = [];
  try {
    for (const [start, rows] of intervals) {
      written.push(start);
      await deps.blobs.put(push.fileOf(start), canonicalCsv(metricSet, rows));
    }
    await refusePassedOver(push);
    await takenBackUnlessDetector(push);
    await last();
  } catch (e) {
    if (push.takesBackOnFailure) for (const start of written) await deps.blobs.put(push.fileOf(start), canonicalCsv(metricSet, [])).catch(() => undefined);
    intervals.clear();
    throw e;
  }
}

/** Intervals whose records are read at once. */
const READS_AT_ONCE = 25;

/** Each interval's execution record, `READS_AT_ONCE` at a time. */
async function recordsOf(deps: Services, metricSet: MetricSet, starts: readonly number[]): Promise<Map<number, IntervalExecution | undefined>> {
  const found = new Map<number, IntervalExecution | undefined>();
  for (let i = 0; i < starts.length; i += READS_AT_ONCE) {
    const part = starts.slice(i, i + READS_AT_ONCE);
    const records = await Promise.all(part.map((start) => deps.records.get<IntervalExecution>("executions", executionKey(metricSet, start))));
    part.forEach((start, k) => found.set(start, records[k]));
  }
  return found;
}

/**
 * Refuses, once held, the rows of intervals detection will not run: one a run began or
 * ended (its record no longer awaits a run), one its model went past (detected, or passed
 * over for want of rows, whose records may have expired), and one older than the intervals
 * a catch-up reaches (MAX_CATCH_UP), which it would pass over. A model that cannot be read
 * is not judged by (its intervals' records still are); before a model has run an interval,
 * rows are its history, which the first run reads whole. Answers whether a model has run one.
 */
async function refuseNotAwaiting(push: Push): Promise<boolean> {
  const { deps, metricSet, intervals, now } = push;
  if (!intervals.size) return false;
  const records = await recordsOf(deps, metricSet, [...intervals.keys()]);
  const model = await readModel(deps.blobs, metricSetRoot(deps.resultsRoot, metricSet)).catch(() => undefined);
  const ran = model && !Number.isNaN(model.head.through) ? model.head.through : undefined;
  // Where detection has gone past intervals it did not run (a jump over intervals without rows, or its first, at the newest).
  const passed = await passedThrough(deps, metricSet);
  const lastClosed = lastClosedInterval(metricSet, now);
  const windowStart = lastClosed - (MAX_CATCH_UP - 1) * intervalMs(metricSet.MetricSetFrequency);
  // A first history being learned may have read an interval already: read after this request's hold was written, so a learning that began before it is seen here, one that begins after it waits for it (detect.ts, loadModel).
  const learning = ran === undefined && passed === undefined && (await historyBeingLearned(deps, metricSet, now));
  for (const [start, rows] of [...intervals]) {
    const run = records.get(start);
    // A record awaiting its run past the model's last interval is run, whatever detection said it went past: it gave way to rows being pushed for it, and said so (detect.ts).
    const through = run && awaitsRun(run) && (ran === undefined || start > ran) ? ran : ran === undefined ? passed : passed === undefined ? ran : Math.max(ran, passed);
    const why = notAwaiting(metricSet, start, run, through, windowStart) ?? (learning && start <= lastClosed ? "is in the metric set's history, which is being learned now and may have read it already" : undefined);
    if (!why) continue;
    refuse(push.rejects, rows, push.file, `the interval ${intervalNamed(metricSet, start)} ${why}`);
    intervals.delete(start);
  }
  return ran !== undefined || passed !== undefined;
}

/** Why detection will not run an interval for rows pushed now, if it will not. */
function notAwaiting(metricSet: MetricSet, start: number, run: IntervalExecution | undefined, through: number | undefined, windowStart: number): string | undefined {
  if (run && !awaitsRun(run)) return run.Status === "IN_PROGRESS" ? "is being detected" : "was already detected";
  if (through === undefined) return undefined;
  if (start <= through) return `was passed by detection, which has run through the interval ${intervalNamed(metricSet, through)}`;
  if (start < windowStart) return `is older than the ${MAX_CATCH_UP} intervals detection catches up, and would be passed over`;
  return undefined;
}

/**
 * Detection may pass an interval over for want of rows, or for being older than a catch-up
 * reaches, without running it: rows written for one meanwhile would never be read. Once
 * written, an interval passed over has its rows refused and its file emptied. (A pass-over
 * that comes after this gives way to the push's hold: detect.ts, `giveUp`.)
 */
async function refusePassedOver(push: Push): Promise<void> {
  const { deps, metricSet, intervals } = push;
  for (const [start, run] of await recordsOf(deps, metricSet, [...intervals.keys()])) {
    if (!run || awaitsRun(run) || run.Status === "IN_PROGRESS" || run.Status === "COMPLETED") continue;
    await deps.blobs.put(push.fileOf(start), canonicalCsv(metricSet, []));
    refuse(push.rejects, intervals.get(start)!, push.file, `the interval ${intervalNamed(metricSet, start)} was passed over by detection while the rows were written`);
    intervals.delete(start);
  }
}

/**
 * Rows written for a detector that its deletion purged meanwhile (marked, deleted, or made
 * again since it was read) are emptied, and the request answered as for a detector gone:
 * a metric set made again under the name must not find them.
 */
async function takenBackUnlessDetector(push: Push, alsoTakeBack?: () => Promise<void>): Promise<void> {
  const { deps, metricSet, detector, intervals } = push;
  if (await push.catalog.stillStands(detector)) return;
  await alsoTakeBack?.();
  for (const start of intervals.keys()) await deps.blobs.put(push.fileOf(start), canonicalCsv(metricSet, []));
  throw new ResourceNotFoundException(`Detector ${detector.AnomalyDetectorArn} was deleted while the rows were written`, detector.AnomalyDetectorArn, "AnomalyDetector");
}

/** Every interval's rows refused with `why` once written, their files emptied: a run may have read the intervals without them. */
async function refuseAll(push: Push, why: string): Promise<void> {
  for (const [start, rows] of [...push.intervals]) {
    await push.deps.blobs.put(push.fileOf(start), canonicalCsv(push.metricSet, []));
    refuse(push.rejects, rows, push.file, `the interval ${intervalNamed(push.metricSet, start)}: ${why}`);
    push.intervals.delete(start);
  }
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
async function takeToken(deps: Pick<Services, "records" | "clock" | "linkClock">, metricSet: MetricSet, token: string, rows: string, now: number): Promise<PushRecord & { readonly again?: true }> {
  const key = pushKey(metricSet, token);
  // Kept as long as its answer would be, should the request stop before it answers.
  const [taken] = await deps.records.putMany([{ table: "pushes", id: key, value: { rows } satisfies PushRecord, expiresAt: retentionStart(deps, now) + TOKEN_RETENTION_MS, ifAbsent: true }]);
  if (taken) return { rows };
  const prior = await deps.records.get<PushRecord>("pushes", key);
  if (prior && prior.rows !== rows) throw new ConflictException(`ClientToken ${token} was used before with other rows for metric set ${metricSet.MetricSetName}: send new rows with a new token`, token, "ClientToken");
  return { ...(prior ?? { rows }), again: true };
}

/**
 * A retry's rows that an earlier attempt with the same token wrote, and the interval's run
 * has read since (its record COMPLETED, the file holding rows): taken out of what the retry
 * writes, and answered as taken, not refused as already detected.
 */
async function readBefore(push: Push): Promise<PushedRows["intervals"]> {
  const read: PushedRows["intervals"] = new Map();
  for (const [start, run] of await recordsOf(push.deps, push.metricSet, [...push.intervals.keys()])) {
    if (run?.Status !== "COMPLETED") continue;
    const bytes = await push.deps.blobs.get(push.fileOf(start));
    if (!bytes || !new TextDecoder().decode(bytes).trim().includes("\n")) continue;
    read.set(start, push.intervals.get(start)!);
    push.intervals.delete(start);
  }
  return read;
}
