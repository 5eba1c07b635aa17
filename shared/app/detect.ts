import { randomBytes } from "node:crypto";
import { Catalog } from "../catalog/catalog.ts";
import { groupEvent, type RecentValues } from "../detect/group-event.ts";
import { intervalFolder, readableOf, readInterval, spillHistory, templatedIntervals, type HistoryRead } from "../detect/read-files.ts";
import { failureUri, inputUri, intervalUri, jsonLinesParts, metricSetRoot, planUri, resultUri, runsUri, tenantFailureReason, toJsonLines } from "../detect/results.ts";
import { mergeSeriesPoints, seriesHistoryUri } from "../detect/series-points.ts";
import { decodeShardResult, encodeShardCells, runShard, type ShardJob, type ShardResult, type Verdict } from "../detect/shard-job.ts";
import { collectVersions, commitModel, emptyModel, readModel, type ShardedModel, type ShardInfo } from "../detect/shard-model.ts";
import { anomaliesOf, planInterval, recentValuesFrom, shardsAfter } from "../detect/shard-plan.ts";
import { DEFAULT_SHARD_CAPACITY, halvesOf, holds, isPartition, MAX_SHARD_DEPTH, ROOT_SHARD, sameHashKey, type ShardHashKey, type ShardId } from "../detect/shards.ts";
import type { ModelSnapshot } from "../detect/snapshot.ts";
import { RECENT } from "../engine/bank.ts";
import { layoutFor } from "../engine/layout.ts";
import { cellsAt, type CellWalk, type DataQualityReport } from "../ingest/aggregate.ts";
import { advanceGroup, groupingContextOf, noMembers, sumTallies, type MemberTally } from "../incidents/grouping.ts";
import { madeOnFirstUse } from "../model/first-use.ts";
import type { Anomaly, AnomalyGroupRecord } from "../model/anomaly.ts";
import { intervalMs } from "../model/frequency.ts";
import { instantOf, lastClosedInterval, templateZone } from "../model/interval-time.ts";
import { DETECTING, type AnomalyDetector } from "../model/detector.ts";
import { historySeriesOf, L4M_QUOTAS, QUOTA_CODES } from "../model/quotas.ts";
import { FILE_READ_COST } from "../ingest/readers.ts";
import { arnAccount, metricSetKey } from "../model/ids.ts";
import type { RecordWrite } from "../store/records.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { joinUri, templateInterval, templatePrefix, templateSpanMs } from "../model/path-template.ts";
import { AccessDeniedException, ResourceNotFoundException, ServiceQuotaExceededException, ValidationException } from "../model/errors.ts";
import { metricSetFiles } from "./data.ts";
import { FEEDBACK_SETTLE_MS, pendingFeedback } from "./feedback.ts";
import { catalogOf, systemScope } from "./scope.ts";
import { retentionStart, type HandedRun, type Services } from "./services.ts";
import { endVisits, leaseTime, standsStill, visiting } from "./under-way.ts";

export { DEFAULT_SHARD_CAPACITY };

/** What detection reads and writes; without a shard runner, a run's shards run here one after another. */
export type DetectServices = Pick<Services, "blobs" | "dataFiles" | "dataRootsOf" | "records" | "events" | "resultsRoot" | "quotas" | "clock" | "linkClock" | "timer" | "keepsLeases"> & Partial<Pick<Services, "shards">>;

/** A metric set's files, read for its tenant as the tenant may read them (its data roots, or its role): the coordinator reads them, shards read Vigil's own. */
const filesOf = (deps: DetectServices, metricSet: MetricSet) => metricSetFiles(deps, systemScope(deps, arnAccount(metricSet.MetricSetArn)), metricSet);
/** A metric set's failure as its tenant reads it: the paths it may see shown, the server's hidden (failureReasonOf). */
const reasonFor = (deps: Pick<DetectServices, "dataRootsOf" | "resultsRoot">, metricSet: MetricSet, e: unknown) => tenantFailureReason(deps, arnAccount(metricSet.MetricSetArn), e, [metricSet]);

/** Where an interval with no rows was looked for: the folder the tenant's own path names, as it is; one in Vigil's results store (the files ingested for it) as the tenant may see it. */
const noDataWhere = (deps: Pick<DetectServices, "dataRootsOf" | "resultsRoot">, metricSet: MetricSet, folder: string) => (metricSet.MetricSource.S3SourceConfig ? folder : reasonFor(deps, metricSet, folder));

/** L4M's ExecutionStatus for one interval, with Vigil's figures. */
export interface IntervalExecution {
  readonly MetricSetArn: string;
  readonly Timestamp: string;
  /**
   * L4M's: PENDING while a catch-up has yet to reach it, IN_PROGRESS while it runs (its
   * shards included); FAILED when it had no rows or too many series (it is not run again)
   * or its run failed, a shard included (it is).
   */
  readonly Status: "PENDING" | "IN_PROGRESS" | "COMPLETED" | "FAILED";
  readonly FailureReason?: string;
  readonly rowsRead: number;
  readonly rowsRejected: number;
  /** Series (measure × dimension values) with a value this interval. */
  readonly seriesScored: number;
  readonly anomalies: number;
  readonly anomalyGroupId?: string;
  /**
   * FAILED before anything was committed: the next run tries the interval again, and rows
   * pushed for it meanwhile are read; unless detection goes past it first (it falls out of
   * the catch-up window), when it is FAILED for that (outOfWindow) without runsAgain.
   */
  readonly runsAgain?: true;
  /** IN_PROGRESS: the name of the run that holds it (runName), so that a run that fails overwrites its own record and never a successor's. */
  readonly run?: string;
}

/** What detection recorded of one interval's rows: L4M's data quality metrics come from it. */
export type QualityRecord = DataQualityReport & { readonly MetricSetArn: string; readonly intervalStart: string };

/**
 * What the last learning of a history its owner named (HistoricalDataPathList) read: its
 * rows, those rejected (kept in historyRejectsUri) or partial, those too old to learn and
 * those of intervals still to come, and the intervals it taught. One per metric set, kept
 * until the next learning replaces it or the metric set goes.
 */
export interface HistoryQuality {
  readonly MetricSetArn: string;
  /** When it was read, ISO 8601. */
  readonly readAt: string;
  readonly files: number;
  readonly rowsRead: number;
  readonly rowsRejected: number;
  readonly rowsPartial: number;
  readonly rejectsByReason: DataQualityReport["rejectsByReason"];
  readonly rejectsNotKept: number;
  /** Rows of intervals before `reach`, not learned. */
  readonly rowsBeforeReach: number;
  /** The first interval a history reaches, ISO 8601. */
  readonly reach: string;
  /** Rows of intervals from the first live one on: live data, learned as it is detected. */
  readonly rowsAhead: number;
  /** Intervals of the history with rows to learn: what the learning was given (its commit is the model's, `DescribeAnomalyDetector`'s status). */
  readonly intervalsRead: number;
}
export const historyQualityKey = (metricSet: Pick<MetricSet, "MetricSetArn">) => `${metricSetKey(metricSet.MetricSetArn)}/history-read`;
/** The rows a named history's last learning kept aside, with their reasons. */
export const historyRejectsUri = (root: string) => joinUri(root, "history", "rejects.jsonl");

export type IntervalOutcome =
  | { readonly kind: "processed"; readonly execution: IntervalExecution; readonly group: AnomalyGroupRecord | undefined }
  | { readonly kind: "already-processed" }
  /** Another invocation holds the interval's lease: it is being processed now. */
  | { readonly kind: "in-progress" }
  /** Another invocation processed it after this one loaded its model: that model is stale. */
  | { readonly kind: "processed-elsewhere" }
  /** Its files may not be read (outside the tenant's data roots, or its role refused): recorded FAILED, tried again next run. */
  | { readonly kind: "failed"; readonly execution: IntervalExecution }
  /** Its shards were handed to the shard queue: the merge commits it when the last is done. */
  | { readonly kind: "dispatched"; readonly shards: number }
  /** Its run outlived its lease: it committed nothing, and the interval is taken over as a stopped run's (and run again). */
  | { readonly kind: "lease-expired" }
  /** Its metric set was deleted, or its detector is being deleted, since this invocation read it: nothing was written (under-way.ts). */
  | { readonly kind: "withdrawn" };

/** How long an invocation may hold an interval: Lambda's longest run. */
export const LEASE_MS = 15 * 60_000;
/** How long a run whose shards were handed over holds its interval: the queue's retries and their waits fit in it. */
export const HANDED_LEASE_MS = 2 * 3_600_000;
/** A lease that never runs out marks an interval as done. */
const DONE = Number.MAX_SAFE_INTEGER;
/** What a run's last writes (its execution record, the model's head) may take: it commits only with this much of its lease left. */
export const COMMIT_MARGIN_MS = 60_000;
const DAY = 86_400_000;
/** Execution and data quality records are kept this long (the API reports recent runs). */
export const EXECUTION_RETENTION_MS = 90 * DAY;
/** A done marker only guards against a stale invocation, which cannot outlive a day; kept a month. */
const DONE_MARKER_RETENTION_MS = 30 * DAY;

const capacityOf = (deps: Pick<DetectServices, "shards">) => deps.shards?.capacity ?? DEFAULT_SHARD_CAPACITY;

/**
 * Whether a saved model is learned again from the history: an older engine's, whose series
 * this one cannot read; or one made before hash keys that holds a shard past its capacity at
 * the deepest split, where only series whose unkeyed hashes were made to collide land (no
 * keys do by chance). Learned again, its series are hashed under a key of the new model's.
 */
const learnedAgain = (model: ShardedModel, capacity: number) => model.outdated === true || (model.hashKey === undefined && model.shards.some((s) => s.id.length === MAX_SHARD_DEPTH && s.series > capacity));

export const executionKey = (metricSet: Pick<MetricSet, "MetricSetArn">, intervalStart: number) => `${metricSetKey(metricSet.MetricSetArn)}/${intervalStart}`;
export const groupKey = (metricSet: Pick<MetricSet, "MetricSetArn">, groupId: string) => `${metricSetKey(metricSet.MetricSetArn)}/${groupId}`;
const historyKey = (metricSet: Pick<MetricSet, "MetricSetArn">) => `${metricSetKey(metricSet.MetricSetArn)}/history`;

export { failureReasonOf, failureUri, inputUri, planUri, resultUri } from "../detect/results.ts";

/** An execution record before its figures are known. */
const notRun = (metricSet: Pick<MetricSet, "MetricSetArn">, stamp: string) => ({ MetricSetArn: metricSet.MetricSetArn, Timestamp: stamp, rowsRead: 0, rowsRejected: 0, seriesScored: 0, anomalies: 0 });

/**
 * Where a metric set's history is: its HistoricalDataPathList, or, without one, the folder
 * its continuous path (TemplatedPathList) writes under, as L4M looked back in it.
 */
export function historyPrefixes(metricSet: Pick<MetricSet, "MetricSource">): string[] {
  const s3 = metricSet.MetricSource.S3SourceConfig;
  if (s3?.HistoricalDataPathList?.length) return [...s3.HistoricalDataPathList];
  const template = s3?.TemplatedPathList?.[0];
  return template ? [templatePrefix(template)] : [];
}

/**
 * What a run's merge needs, written in its work folder beside its jobs' inputs and
 * results: the merge reads it back when the shards ran elsewhere.
 */
interface RunBase {
  readonly metricSet: MetricSet;
  /** The lease the run holds, and the term it holds it until: a merge commits only while it is still the run's. */
  readonly lease: string;
  readonly leaseUntil: number;
  readonly work: string;
  /** Where its shards are written under model/. */
  readonly version: string;
  readonly jobs: readonly { readonly target: ShardId; readonly replaces: ShardId; readonly readOnly: boolean }[];
  /** The hash key of the model the run writes (shards.ts); none for a model made before keys. */
  readonly hashKey?: ShardHashKey;
}

/** A new model's hash key, drawn here at the edge: the pure core (shards.ts) is handed it. */
function newHashKey(): ShardHashKey {
  const bytes = randomBytes(8);
  return [bytes.readUInt32LE(0), bytes.readUInt32LE(4)];
}

/** A run's model's hash key, as its plan and jobs carry it. */
const keyed = (hashKey: ShardHashKey | undefined) => (hashKey ? { hashKey } : {});

export interface IntervalPlan extends RunBase {
  readonly kind: "interval";
  readonly intervalStart: number;
  /** The last interval the model had learned when the run was planned (null: none). */
  readonly base: number | null;
  readonly feedbackThrough: number;
  readonly quality: DataQualityReport;
  readonly seriesScored: number;
  /** Whether its series were scored (it was within the series quota): their points are kept. */
  readonly scored: boolean;
  /** Why the interval, though committed, is FAILED (no rows, too many series): it is not run again. */
  readonly failure?: string;
}

export interface HistoryPlan extends RunBase {
  readonly kind: "history";
  readonly through: number;
  readonly intervals: number;
  /** Shards that hold no series (no job). */
  readonly empty: readonly ShardInfo[];
  /** What an older engine's model said beside its series (learned again): where detection had got to, its open group, its feedback watermark. */
  readonly outdated?: OutdatedHead;
}

type OutdatedHead = Pick<ModelSnapshot, "openGroup" | "feedbackThrough"> & { readonly through: number | null };

export type RunPlan = IntervalPlan | HistoryPlan;

/** A run's name: the term of its lease, which no other run of the same interval can hold. */
const runName = (leaseUntil: number) => leaseUntil.toString(36);
/** The name of the run whose work folder is `work` (runsUri ends with it). */
const runOfWork = (work: string) => work.slice(work.lastIndexOf("/") + 1);

/**
 * A trigger's time says which intervals are due; it times no record: it lags for a retried
 * invocation (and a long one moves past it), and a sample event's is long past. Records are
 * kept for their retention from the clock's time, read afresh (the store's clock, which drops
 * expired records), or from the time an invocation was given when that is later (a test's
 * clock that stands still).
 */
/** The services' own time (a simulation's, in the demo): what detection's watermarks, such as feedback's, are read against. */
const clockTime = (deps: Pick<Services, "clock">, now: number) => Math.max(now, deps.clock());

/** How long a push's hold on an interval lasts at most (push.ts): longer than an API request may take in AWS (29 s). */
export const PUSH_HOLD_MS = 30_000;
/** How long a run waits for the pushes holding its interval before it leaves the interval to the next invocation. */
const PUSH_WAIT_MAX_MS = 5_000;
/** How often a run looks again whether the pushes holding its interval have written their rows. */
const PUSH_WAIT_MS = 25;

/**
 * A push's hold on an interval (push.ts), one record per request beside the interval's
 * lease: rows are being written for it, until `written`. Pushes do not exclude each other;
 * a run, once it has recorded that it began, waits for the holds then still writing (so
 * rows a push was told the interval still awaited are read; a push that comes later sees
 * the run and refuses its rows, so the wait ends within PUSH_HOLD_MS), and passing the
 * interval over gives way to any hold still live, written or not (so rows taken just before
 * are not passed over). A push drops its holds on intervals whose rows it refused.
 */
export interface PushHold {
  readonly id: string;
  /** The interval held. */
  readonly start: number;
  readonly until: number;
  readonly written?: true;
}

/** A metric set's holds, every interval's: `<metric set>/push/<interval start>/<request>`. */
const pushHoldsOfSet = (metricSet: Pick<MetricSet, "MetricSetArn">) => `${metricSetKey(metricSet.MetricSetArn)}/push/`;
const pushHoldsOf = (metricSet: Pick<MetricSet, "MetricSetArn">, start: number) => `${pushHoldsOfSet(metricSet)}${start}/`;
const pushHoldId = (metricSet: Pick<MetricSet, "MetricSetArn">, start: number, id: string) => `${pushHoldsOf(metricSet, start)}${id}`;

/** Holds each interval for the push `id` (one request's own); answers the term, PUSH_HOLD_MS from now. */
export async function holdForPush(deps: Pick<Services, "records" | "linkClock">, metricSet: Pick<MetricSet, "MetricSetArn">, starts: readonly number[], id: string, now: number): Promise<number> {
  const until = leaseTime(deps, now) + PUSH_HOLD_MS;
  await putBounded(deps, starts.map((t) => ({ table: "leases", id: pushHoldId(metricSet, t, id), value: { id, start: t, until } satisfies PushHold, expiresAt: until })));
  return until;
}

/** Ends a push's holds: those of intervals it wrote are marked written (kept to their term), the others dropped. */
export async function endPushHolds(deps: Pick<Services, "records">, metricSet: Pick<MetricSet, "MetricSetArn">, written: readonly number[], dropped: readonly number[], id: string, until: number): Promise<void> {
  await putBounded(deps, written.map((t) => ({ table: "leases", id: pushHoldId(metricSet, t, id), value: { id, start: t, until, written: true } satisfies PushHold, expiresAt: until })));
  await Promise.all(dropped.map((t) => deps.records.delete("leases", pushHoldId(metricSet, t, id))));
}

/** Whether a hold taken until `until` is still live now. */
export const holdsStill = (deps: Pick<Services, "clock" | "linkClock">, until: number): boolean => leaseTime(deps, deps.clock()) < until;

/** Writes a bounded number at a time (conditional ones go one request each in DynamoDB). */
async function putBounded(deps: Pick<Services, "records">, writes: readonly RecordWrite[]): Promise<void> {
  for (let i = 0; i < writes.length; i += PENDING_WRITES) await deps.records.putMany(writes.slice(i, i + PENDING_WRITES));
}

/** The holds under `prefix` (an interval's, or a metric set's) live at `now`. */
async function liveHolds(deps: Pick<Services, "records" | "linkClock">, prefix: string, now: number): Promise<PushHold[]> {
  const at = leaseTime(deps, now);
  return (await deps.records.list<PushHold>("leases", prefix)).filter((h) => h.until > at);
}

/**
 * Waits until the pushes holding the interval as its run began, and still writing, have
 * written: true when they have, false when some still write after PUSH_WAIT_MAX_MS (a
 * request killed mid-write holds until its term), so that one tenant's requests cannot keep
 * an invocation that serves every tenant waiting.
 */
async function afterPushes(deps: Pick<Services, "records" | "linkClock" | "timer">, prefix: string, now: number): Promise<boolean> {
  const writing = (holds: readonly PushHold[]) => new Set(holds.filter((h) => !h.written).map((h) => h.id));
  const waited = writing(await liveHolds(deps, prefix, now));
  const giveUpAt = deps.linkClock() + PUSH_WAIT_MAX_MS;
  while (waited.size) {
    if (deps.linkClock() >= giveUpAt) return false;
    await deps.timer.sleep(PUSH_WAIT_MS, NEVER);
    const still = writing(await liveHolds(deps, prefix, now));
    for (const id of waited) if (!still.has(id)) waited.delete(id);
  }
  return true;
}

const NEVER = new AbortController().signal;

/**
 * Whether a run still holds its interval with time left to write its records and commit:
 * COMMIT_MARGIN_MS of its lease is left, and its term is the one recorded (not another run's,
 * nor the done mark, nor gone: given back by a run that took over after it ran out).
 */
async function holdsLease(deps: Pick<DetectServices, "records" | "linkClock">, run: Pick<RunBase, "lease" | "leaseUntil">, now: number): Promise<boolean> {
  if (leaseTime(deps, now) + COMMIT_MARGIN_MS > run.leaseUntil) return false;
  return (await deps.records.get<{ until: number }>("leases", run.lease))?.until === run.leaseUntil;
}

/**
 * Whether a run is learning the metric set's history now (it holds the history's lease): rows
 * pushed for an interval it covers may come after it read that interval, and would be lost.
 */
export async function historyBeingLearned(deps: Pick<Services, "records" | "linkClock">, metricSet: Pick<MetricSet, "MetricSetArn">, now: number): Promise<boolean> {
  const until = (await deps.records.get<{ until: number }>("leases", historyKey(metricSet)))?.until;
  return until !== undefined && until !== DONE && until > leaseTime(deps, now);
}

/** A model, and how many intervals of history it learned now (Infinity: it was saved). */
export interface LoadedModel {
  readonly model: ShardedModel;
  readonly learned: number;
}

/**
 * The model of a metric set: its committed head, or, the first time (or the first time an
 * engine that cannot read it runs), its history learned shard by shard and committed.
 * Undefined while another invocation learns it, or while the shards learning it were
 * handed to the queue.
 */
export async function loadModel(deps: DetectServices, metricSet: MetricSet, before: number, now: number, activating = false): Promise<LoadedModel | undefined> {
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  const saved = await readModel(deps.blobs, root);
  if (saved && !learnedAgain(saved, capacityOf(deps))) return { model: saved, learned: Infinity };
  const claimedAt = leaseTime(deps, now);
  const term: LeaseTerm = { lease: historyKey(metricSet), leaseUntil: claimedAt + LEASE_MS };
  if (!(await deps.records.claim(term.lease, term.leaseUntil, claimedAt))) return undefined;
  // Taken, then read: a deletion that marked the detector before sees the lease, or this sees the mark (under-way.ts).
  if (!(await standsStill(deps.records, metricSet))) return void (await deps.records.release(term.lease, term.leaseUntil));
  // Taken, then read, as an interval's run (attemptInterval): rows being written for any interval are waited for; a push that comes now sees the lease (historyBeingLearned).
  if (!(await afterPushes(deps, pushHoldsOfSet(metricSet), now))) return void (await deps.records.release(term.lease, term.leaseUntil));
  // A model of an older engine is learned again from the history; where detection had got to, and its open group, are kept.
  const outdated = saved && { through: Number.isNaN(saved.head.through) ? null : saved.head.through, openGroup: saved.head.openGroup, feedbackThrough: saved.head.feedbackThrough };
  const stopKeeping = keepLease(deps, term, now);
  // Named by the lease's first term, as learnHistory names it (keeping the lease moves the term on).
  const work = runsUri(root, "history", runName(term.leaseUntil));
  try {
    // A saved model is learned again up to where detection had got to: the intervals after it are detected, not learned as history.
    const upTo = outdated && outdated.through !== null ? Math.min(before, outdated.through + intervalMs(metricSet.MetricSetFrequency)) : before;
    return await learnHistory(deps, metricSet, upTo, term, now, outdated, stopKeeping, activating && !outdated);
  } catch (e) {
    await stopKeeping();
    // A run that failed after spilling (a shard, the commit) leaves no spill behind: the next run spills into a folder of its own. At best, as in failRun.
    await deps.blobs.deleteFolder(`${work}/`).catch(() => 0);
    // A model an older engine wrote whose history has grown past its quota goes on from nothing, as one without history, rather than stop; so does a metric set
    // already detecting with no model saved (its first interval has yet to commit), which would otherwise read the history again at every run only to refuse it.
    // Only an activation is FAILED for it.
    if ((outdated || !activating) && e instanceof ServiceQuotaExceededException) return afresh(deps, metricSet, term, outdated, now);
    // Given back only while still its own: a lease another run took over stays that run's.
    await deps.records.release(term.lease, term.leaseUntil);
    throw e;
  } finally {
    await stopKeeping();
  }
}

/** The shards the spill's partitions (of `bits` bits) fall into: halves while a shard would hold more than `capacity` time series, never below the partitions. */
function historyShards(partitions: ReadonlyMap<number, number>, bits: number, measures: number, capacity: number, id: ShardId = ROOT_SHARD): { id: ShardId; partitions: number[]; series: number }[] {
  const mine = [...partitions].filter(([p]) => holds(id, (p << (32 - bits)) >>> 0));
  const series = mine.reduce((n, [, combos]) => n + combos * measures, 0);
  if (series <= capacity || id.length === bits) return [{ id, partitions: mine.map(([p]) => p).sort((a, b) => a - b), series }];
  return halvesOf(id).flatMap((half) => historyShards(partitions, bits, measures, capacity, half));
}

/** The history's spill, loaded by the first history learned: most invocations learn none. */
const historySpill = () => import("../detect/shard-history.ts");

/** `strict`: a history its paths name that gives nothing to learn, for a reason its owner can fix, fails (an activation). */
async function learnHistory(deps: DetectServices, metricSet: MetricSet, before: number, term: LeaseTerm, now: number, outdated: OutdatedHead | undefined, stopKeeping: () => Promise<void>, strict: boolean): Promise<LoadedModel | undefined> {
  const { HistorySpill, partitionFolder, SPILL_BITS } = await historySpill();
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  const readable = readableOf(metricSet, root);
  const run = runName(term.leaseUntil);
  const work = runsUri(root, "history", run);
  await deps.blobs.deleteFolder(`${work}/`);
  // The model learned is a new one, its series hashed under a key of its own.
  const hashKey = newHashKey();
  const spill = new HistorySpill(deps.blobs, joinUri(work, "spill"), metricSet.MetricList.length, metricSet.MetricSetFrequency, before, hashKey);
  const quotas = deps.quotas ?? L4M_QUOTAS;
  const bytes = quotas.bytesPerHistory[metricSet.MetricSetFrequency];
  // The series' keys are held whole while the history is read: a sixteenth of its bytes (an interval's, 256 MiB at PT1H), as a live interval's are bounded by its own.
  const limits = { bytes, series: historySeriesOf(quotas, metricSet.MetricSetFrequency), keyChars: Math.floor(bytes / 16) };
  // The last learned intervals' points are kept: the context of the first live incidents. A history refused leaves no spill behind.
  const spilled = await spillHistory(filesOf(deps, metricSet), readable, historyPrefixes(readable), spill, limits, RECENT).catch(async (e: unknown) => {
    await deps.blobs.deleteFolder(`${work}/`);
    throw e;
  });
  // What the read held is kept only by the run that still holds the history, of a metric set that still stands: a purge, or a run that took over, is not written after.
  if (!(await holdsLease(deps, term, now)) || !(await standsStill(deps.records, metricSet))) {
    await deps.records.release(term.lease, term.leaseUntil);
    await deps.blobs.deleteFolder(`${work}/`);
    return undefined;
  }
  await keepHistoryRead(deps, metricSet, root, spilled.read, spilled.intervals, now);
  // Only a history the owner named: a pushed or CloudWatch metric set's canonical files may not have come yet.
  if (strict && spilled.unusable && metricSet.MetricSource.S3SourceConfig?.HistoricalDataPathList?.length) throw new ValidationException(`The history of metric set ${metricSet.MetricSetName} gave nothing to learn: ${spilled.unusable}`);
  const version = `h-${run}`;
  const capacity = capacityOf(deps);
  const shards = spilled.partitions.size ? historyShards(spilled.partitions, SPILL_BITS, metricSet.MetricList.length, capacity) : [];
  const learning = shards.filter((s) => s.series > 0);
  // Shards handed to the queue hold the history's lease as an interval's do (startInterval).
  if (learning.length > 1 && deps.shards?.handsOver === true) {
    await stopKeeping();
    // Its lease taken over before anything was handed: the spill is this run's alone.
    if (!(await extendLease(deps.records, term, leaseTime(deps, now) + HANDED_LEASE_MS))) {
      await deps.blobs.deleteFolder(`${work}/`);
      return undefined;
    }
  }
  const plan: HistoryPlan = {
    kind: "history",
    metricSet,
    lease: term.lease,
    leaseUntil: term.leaseUntil,
    work,
    version,
    jobs: learning.map((s) => ({ target: s.id, replaces: s.id, readOnly: false })),
    through: spilled.through,
    intervals: spilled.intervals,
    empty: shards.filter((s) => s.series === 0).map((s) => ({ id: s.id, series: 0, version: "" })),
    hashKey,
    ...(outdated ? { outdated } : {}),
  };
  const jobs: ShardJob[] = learning.map((s) => ({
    metricSet,
    root,
    target: s.id,
    source: undefined,
    version,
    capacity,
    hashKey,
    input: { kind: "history", spills: s.partitions.map((p) => partitionFolder(spilled.folder, p)), before, keep: spilled.latest },
  }));
  const results = await runJobs(deps, plan, jobs);
  await stopKeeping();
  return results && finishHistory(deps, { ...plan, leaseUntil: term.leaseUntil }, results, now);
}

/**
 * Keeps what a named history's read held (its rows kept aside first, then the figures that
 * point to them), for GetDataQualityMetrics and GetRejectedRows; without a named history
 * (its paths removed since), what an earlier one held goes.
 */
async function keepHistoryRead(deps: DetectServices, metricSet: MetricSet, root: string, read: HistoryRead | undefined, intervalsRead: number, now: number): Promise<void> {
  if (!read) {
    await deps.records.delete("quality", historyQualityKey(metricSet));
    await deps.blobs.deleteFolder(`${joinUri(root, "history")}/`);
    return;
  }
  await deps.blobs.put(historyRejectsUri(root), toJsonLines(read.rejects), "rejects");
  const quality: HistoryQuality = {
    MetricSetArn: metricSet.MetricSetArn,
    readAt: new Date(now).toISOString(),
    files: read.files,
    rowsRead: read.rowsRead,
    rowsRejected: read.rowsRejected,
    rowsPartial: read.rowsPartial,
    rejectsByReason: read.rejectsByReason,
    rejectsNotKept: read.rejectsNotKept,
    rowsBeforeReach: read.rowsBeforeReach,
    reach: new Date(read.reach).toISOString(),
    rowsAhead: read.rowsAhead,
    intervalsRead,
  };
  await deps.records.put("quality", historyQualityKey(metricSet), quality);
}

/** Commits a model learned from history, with its kept points, if the run still holds the history's lease (as finishInterval). */
async function finishHistory(deps: DetectServices, plan: HistoryPlan, results: readonly ShardResult[], now: number): Promise<LoadedModel | undefined> {
  const root = metricSetRoot(deps.resultsRoot, plan.metricSet);
  const current = await readModel(deps.blobs, root);
  // Committed meanwhile (an interval run on the model its activation learned): that model stands, and this run's spill and lease go.
  if (current && !learnedAgain(current, capacityOf(deps))) {
    await deps.records.release(plan.lease, plan.leaseUntil);
    await deps.blobs.deleteFolder(`${plan.work}/`);
    return undefined;
  }
  const shards = [...plan.empty, ...results.flatMap((r) => r.written)].sort((a, b) => (a.id < b.id ? -1 : 1));
  const empty = emptyModel(intervalMs(plan.metricSet.MetricSetFrequency), plan.hashKey);
  const learned: ShardedModel = shards.length ? { ...empty, head: { ...empty.head, through: plan.through }, shards } : empty;
  const model = plan.outdated ? { ...learned, head: { ...learned.head, through: laterOf(plan.outdated.through, learned.head.through), openGroup: plan.outdated.openGroup, feedbackThrough: plan.outdated.feedbackThrough } } : learned;
  if (!isPartition(model.shards.map((s) => s.id))) throw new Error(`the history's shards ${JSON.stringify(model.shards.map((s) => s.id))} do not cover the series exactly once`);
  await keepPoints(deps, root, results);
  // A run that outlived its lease leaves the history to the run that took it over: two commits would each collect the other's shards.
  if (!(await holdsLease(deps, plan, now))) {
    await deps.records.release(plan.lease, plan.leaseUntil);
    await deps.blobs.deleteFolder(`${plan.work}/`);
    return undefined;
  }
  // A metric set without history starts from nothing at its first interval: nothing to commit. A model learned again is committed even so, under its new
  // key: the one it replaces would otherwise stand, and a merge run elsewhere would refuse every interval planned on the new one.
  if (shards.length || plan.outdated) {
    await commitModel(deps.blobs, root, model);
    await collectVersions(deps.blobs, root, model);
  }
  await deps.records.release(plan.lease, plan.leaseUntil);
  await deps.blobs.deleteFolder(`${plan.work}/`);
  return { model, learned: plan.intervals };
}

/** Commits an empty model in place of an outdated one (where detection had got to kept) or of none, if the run still holds the history's lease. */
async function afresh(deps: DetectServices, metricSet: MetricSet, term: LeaseTerm, outdated: OutdatedHead | undefined, now: number): Promise<LoadedModel | undefined> {
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  const empty = emptyModel(intervalMs(metricSet.MetricSetFrequency), newHashKey());
  const model: ShardedModel = outdated ? { ...empty, head: { ...empty.head, through: outdated.through ?? NaN, openGroup: outdated.openGroup, feedbackThrough: outdated.feedbackThrough } } : empty;
  // A model committed meanwhile (an interval run on the model its activation learned, which takes no history lease) is kept, as finishHistory keeps it.
  const current = await readModel(deps.blobs, root);
  if (current && !learnedAgain(current, capacityOf(deps))) {
    await deps.records.release(term.lease, term.leaseUntil);
    return { model: current, learned: Infinity };
  }
  const held = await holdsLease(deps, term, now);
  if (held) {
    await commitModel(deps.blobs, root, model);
    await collectVersions(deps.blobs, root, model);
  }
  await deps.records.release(term.lease, term.leaseUntil);
  return held ? { model, learned: 0 } : undefined;
}

/** The later of two intervals, either unknown (null, NaN); NaN when both are. */
function laterOf(a: number | null, b: number): number {
  const known = [a ?? NaN, b].filter(Number.isFinite);
  return known.length ? Math.max(...known) : NaN;
}

/** Every series' point at each interval the shards kept (series-points.ts), one file an interval from their parts. */
async function keepPoints(deps: DetectServices, root: string, results: readonly ShardResult[]): Promise<void> {
  const parts = new Map<number, Uint8Array[]>();
  for (const r of results) for (const k of r.kept) parts.set(k.intervalStart, [...(parts.get(k.intervalStart) ?? []), k.points]);
  for (const [t, points] of parts) await deps.blobs.put(seriesHistoryUri(root, t), mergeSeriesPoints(points));
}

/**
 * Runs a run's jobs: one here; several on the shard runner, which either answers their
 * results or hands them over (undefined: the merge runs when the last is done).
 */
async function runJobs(deps: DetectServices, plan: RunPlan, jobs: readonly ShardJob[]): Promise<ShardResult[] | undefined> {
  if (jobs.length <= 1 || !deps.shards) {
    const results: ShardResult[] = [];
    for (const job of jobs) results.push(await runShard(deps.blobs, job));
    return results;
  }
  await deps.blobs.put(planUri(plan.work), JSON.stringify(plan));
  const handed: HandedRun = { metricSetArn: plan.metricSet.MetricSetArn, work: plan.work, jobs: jobs.length };
  return deps.shards.run(jobs, handed);
}

function seriesWithValues(cells: CellWalk | undefined, metricSet: MetricSet): number {
  let n = 0;
  cells?.forEach((cell) => metricSet.MetricList.forEach((_, m) => (n += cell.counts[m]! > 0 ? 1 : 0)));
  return n;
}

/**
 * Detects one interval of one metric set: take the interval's lease (so of two racing
 * invocations one does the work), read and validate its files, split its series over the
 * model's shards and score each shard, merge their anomalies into groups, write results,
 * then commit by writing the model's head, which names the shards written and records the
 * interval as done, and mark the lease done. Anything written before the commit is keyed
 * by interval or group id, so a re-run after a crash rewrites the same records. A run that
 * fails records its interval as FAILED with the reason, commits nothing, and gives its
 * lease back for the next run.
 */
export async function detectInterval(deps: IntervalServices, metricSet: MetricSet, intervalStart: number, now: number, given?: ShardedModel): Promise<IntervalOutcome> {
  const attempt = await attemptInterval(deps, metricSet, intervalStart, now, given);
  if (attempt.thrown) throw attempt.thrown.error;
  return attempt.outcome;
}

/** What detection needs to run an interval: its stores, and the observer told of what could not be recorded. */
export type IntervalServices = DetectServices & Pick<Services, "observer">;

/**
 * An interval's outcome, and, when the error that stopped it must also fail the invocation
 * (anything but files the tenant may not read), that error: the caller reports the outcome
 * like any other, then throws it.
 */
interface Attempt {
  readonly outcome: IntervalOutcome;
  readonly thrown?: { readonly error: unknown };
}

async function attemptInterval(deps: IntervalServices, metricSet: MetricSet, intervalStart: number, now: number, given?: ShardedModel): Promise<Attempt> {
  let model: ShardedModel | undefined;
  try {
    model = given ?? (await loadModel(deps, metricSet, intervalStart, now))?.model;
  } catch (e) {
    return failedBeforeLease(deps, metricSet, intervalStart, now, e);
  }
  if (!model) return { outcome: { kind: "in-progress" } };
  if (model.head.through >= intervalStart) return { outcome: { kind: "already-processed" } };
  const lease = executionKey(metricSet, intervalStart);
  const claimedAt = leaseTime(deps, now);
  const leaseUntil = claimedAt + LEASE_MS;
  if (!(await deps.records.claim(lease, leaseUntil, claimedAt))) {
    const held = await deps.records.get<{ until: number }>("leases", lease);
    return { outcome: held?.until === DONE ? { kind: "processed-elsewhere" } : { kind: "in-progress" } };
  }
  if (!(await standsStill(deps.records, metricSet))) {
    await deps.records.release(lease, leaseUntil);
    return { outcome: { kind: "withdrawn" } };
  }
  await deps.records.put("executions", lease, { ...notRun(metricSet, new Date(intervalStart).toISOString()), Status: "IN_PROGRESS", run: runName(leaseUntil) } satisfies IntervalExecution, { expiresAt: retentionStart(deps, now) + EXECUTION_RETENTION_MS });
  // Recorded first: a push that comes now refuses its rows; one that came before has them read, or the interval is left to the next invocation.
  if (!(await afterPushes(deps, pushHoldsOf(metricSet, intervalStart), now))) return { outcome: await leftToNext(deps, metricSet, intervalStart, leaseUntil) };
  const term: LeaseTerm = { lease, leaseUntil };
  const stopKeeping = keepLease(deps, term, now);
  try {
    return { outcome: await startInterval(deps, metricSet, intervalStart, now, model, term, stopKeeping) };
  } catch (e) {
    await stopKeeping();
    const execution = await failRun(deps, metricSet, intervalStart, now, term, runsUri(metricSetRoot(deps.resultsRoot, metricSet), String(intervalStart), runName(leaseUntil)), reasonFor(deps, metricSet, e));
    // Files the tenant may not read fail the interval, not the run: the other metric sets and tenants go on.
    return { outcome: execution ? { kind: "failed", execution } : { kind: "lease-expired" }, ...(e instanceof AccessDeniedException ? {} : { thrown: { error: e } }) };
  } finally {
    await stopKeeping();
  }
}

/** A run that began but found rows still being pushed: its record awaits a run again (PENDING, where it is still its own), its lease is given back. */
async function leftToNext(deps: Pick<IntervalServices, "records">, metricSet: MetricSet, intervalStart: number, leaseUntil: number): Promise<IntervalOutcome> {
  const id = executionKey(metricSet, intervalStart);
  const run = runName(leaseUntil);
  await deps.records.update<IntervalExecution>("executions", id, (current) => (current.Status === "IN_PROGRESS" && current.run === run ? { ...notRun(metricSet, current.Timestamp), Status: "PENDING" } : current));
  await deps.records.release(id, leaseUntil);
  return { kind: "in-progress" };
}

/** The lease a run holds, and the term it holds it until: moved on while the run works here (keepLease), and once more should it hand its shards over. */
interface LeaseTerm {
  readonly lease: string;
  leaseUntil: number;
}

/**
 * An interval stopped before its lease was taken (its model unreadable, its history or
 * folders refused): recorded FAILED with the reason, nothing else written, so that
 * DescribeAnomalyDetectionExecutions says why and not the logs alone. An interval another
 * invocation has completed meanwhile, or runs now, keeps its record; one left IN_PROGRESS by
 * a run that stopped (its lease ran out) does not. Should the record fail too, that is
 * logged and the error that stopped the interval is the one thrown, whatever it was.
 */
async function failedBeforeLease(deps: Pick<IntervalServices, "records" | "observer" | "clock" | "linkClock" | "dataRootsOf" | "resultsRoot">, metricSet: MetricSet, intervalStart: number, now: number, error: unknown): Promise<Attempt> {
  const execution: IntervalExecution = { ...notRun(metricSet, new Date(intervalStart).toISOString()), Status: "FAILED", FailureReason: reasonFor(deps, metricSet, error), runsAgain: true };
  const id = executionKey(metricSet, intervalStart);
  const outcome: IntervalOutcome = { kind: "failed", execution };
  try {
    await asHeirOfStoppedRun(deps, id, now, async (found) => {
      const changed = await deps.records.update<IntervalExecution>("executions", id, (current) => (replaceable(current, found) ? execution : current));
      if (changed === undefined) await deps.records.putMany([{ table: "executions", id, value: execution, expiresAt: retentionStart(deps, now) + EXECUTION_RETENTION_MS, ifAbsent: true }]);
    });
  } catch (recording) {
    deps.observer.failed("recording why an interval could not start", recording, { metricSetArn: metricSet.MetricSetArn, intervalStart: execution.Timestamp, reason: execution.FailureReason });
    return { outcome, thrown: { error } };
  }
  // Files the tenant may not read fail the interval, not the run: the other metric sets and tenants go on.
  return error instanceof AccessDeniedException ? { outcome } : { outcome, thrown: { error } };
}

/**
 * Whether an interval's record says it has yet to be run: waiting for a catch-up, or failed
 * and to be tried again. Such a record may be replaced, and rows pushed for its interval are
 * read (push.ts); a run another invocation holds (IN_PROGRESS), or one it committed
 * (COMPLETED, or FAILED for want of rows), keeps its record.
 */
export const awaitsRun = (e: IntervalExecution) => e.Status === "PENDING" || (e.Status === "FAILED" && e.runsAgain === true);

/**
 * Records an interval whose run failed as FAILED with its reason, and gives its lease back:
 * the next run tries again from the committed model. A run that no longer holds its interval
 * (its lease ran out, and may have been taken over) writes no record, and gives the lease
 * back only if it is still its own, so that it cannot overwrite another run's record or
 * remove its done mark; its interval is taken over as a stopped run's. Answers the record
 * written, if any.
 */
export async function failRun(deps: DetectServices, metricSet: Pick<MetricSet, "MetricSetArn">, intervalStart: number, now: number, run: Pick<RunBase, "lease" | "leaseUntil">, work: string, reason: string): Promise<IntervalExecution | undefined> {
  let recorded: IntervalExecution | undefined;
  if (await holdsLease(deps, run, now)) {
    // Said in the interval's execution, and left to the next run: the lease goes, the model was not committed. Written over the run's own IN_PROGRESS alone:
    // its lease may run out between the check and the write, and a successor's IN_PROGRESS is the successor's (a record of an earlier version names no run).
    const execution: IntervalExecution = { ...notRun(metricSet, new Date(intervalStart).toISOString()), Status: "FAILED", FailureReason: reason, runsAgain: true };
    const own = runOfWork(work);
    const written = await deps.records.update<IntervalExecution>("executions", executionKey(metricSet, intervalStart), (current) => (current.Status === "IN_PROGRESS" && (current.run ?? own) === own ? execution : current));
    recorded = written === execution ? execution : undefined;
  }
  // Given back whether or not it was recorded, if still its own (run out, or nearly: the next run need not wait).
  await deps.records.release(run.lease, run.leaseUntil);
  // Last, and at best: should the store that failed the run fail this too, the interval's commit removes every run's work.
  await deps.blobs.deleteFolder(`${work}/`).catch(() => 0);
  return recorded;
}

async function startInterval(deps: DetectServices, metricSet: MetricSet, intervalStart: number, now: number, model: ShardedModel, term: LeaseTerm, stopKeeping: () => Promise<void>): Promise<IntervalOutcome> {
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  const run = runName(term.leaseUntil);
  const work = runsUri(root, String(intervalStart), run);
  // collectVersions reads the interval from the name: it never takes a later interval's version.
  const version = `${intervalStart}-${run}`;
  await deps.blobs.deleteFolder(`${work}/`);
  await deps.blobs.deleteFolder(`${joinUri(root, "model", version)}/`);
  const settled = Math.max(model.head.feedbackThrough, clockTime(deps, now) - FEEDBACK_SETTLE_MS);
  const feedback = await pendingFeedback(deps.records, metricSet, model.head.feedbackThrough, settled);
  const quotas = deps.quotas ?? L4M_QUOTAS;
  const maxBytes = quotas.bytesPerInterval[metricSet.MetricSetFrequency];
  const data = await readInterval(filesOf(deps, metricSet), readableOf(metricSet, root), intervalStart, { maxBytes });
  const cells = cellsAt(data.intervals, intervalStart);
  // L4M's quota on series, and Vigil's on bytes read: an interval over one is not scored (its feedback is still learned), and says why; its files stay where they are.
  const seriesQuota = quotas.seriesPerMetricSet[metricSet.MetricSetFrequency];
  const overQuota = data.overBudget || data.quality.timeSeriesCount > seriesQuota;
  const failure = data.overBudget
    ? `ServiceQuotaExceeded ${QUOTA_CODES.bytesPerInterval}: the interval's files hold more than ${maxBytes} bytes as read (inflated, each file counting ${FILE_READ_COST} more), the quota`
    : data.quality.rowsRead === 0
      ? `${NO_DATA} (${noDataWhere(deps, metricSet, intervalFolder(readableOf(metricSet, root), intervalStart) ?? "no path")})`.slice(0, 256)
      : overQuota
        ? `ServiceQuotaExceeded ${QUOTA_CODES.seriesPerMetricSet}: ${data.quality.timeSeriesCount} time series, the quota is ${seriesQuota}`
        : undefined;
  const verdicts: Verdict[] = feedback.map((f) => ({ measure: f.measure, dimensions: f.dimensions, z: f.z, IsAnomaly: f.IsAnomaly }));
  const capacity = capacityOf(deps);
  const open = model.head.openGroup;
  // A group carried by a model of the format before holds every series: its shards are all written once, each keeping its members in its bank.
  const marking = open !== undefined && (await bounds()).holdsMore(open);
  const planned = planInterval(model, metricSet, overQuota ? undefined : cells, verdicts, capacity, marking);
  const handed = planned.length > 1 && deps.shards?.handsOver === true;
  // The queue's retries need longer than the claimed term: the lease is extended, if it is still the run's (a conditional write, as a claim is).
  if (handed) {
    await stopKeeping();
    if (!(await extendLease(deps.records, term, leaseTime(deps, now) + HANDED_LEASE_MS))) return { kind: "lease-expired" };
  }
  const plan: IntervalPlan = {
    kind: "interval",
    metricSet,
    lease: term.lease,
    leaseUntil: term.leaseUntil,
    work,
    version,
    jobs: planned.map((p) => ({ target: p.target, replaces: p.replaces, readOnly: p.readOnly })),
    intervalStart,
    base: Number.isNaN(model.head.through) ? null : model.head.through,
    feedbackThrough: settled,
    quality: data.quality,
    seriesScored: seriesWithValues(cells, metricSet),
    scored: !overQuota,
    ...keyed(model.hashKey),
    ...(failure ? { failure } : {}),
  };
  await deps.blobs.put(joinUri(intervalUri(root, intervalStart), "rejects.jsonl"), toJsonLines([...data.rejects, ...data.rejectsNotKept]), "rejects");
  const m = metricSet.MetricList.length;
  const jobs: ShardJob[] = planned.map((p) => ({
    metricSet,
    root,
    target: p.target,
    source: p.source,
    version,
    capacity,
    ...keyed(model.hashKey),
    input: { kind: "interval", cells: { bytes: encodeShardCells({ intervalStart, measures: m, cells: p.cells, verdicts: p.verdicts, chart: p.chart, groupStart: open?.startMs }) } },
    ...(p.readOnly ? { readOnly: true } : {}),
  }));
  const results = await runJobs(deps, plan, jobs);
  await stopKeeping();
  if (!results) return { kind: "dispatched", shards: jobs.length };
  return finishInterval(deps, { ...plan, leaseUntil: term.leaseUntil }, results, now, model);
}

/** How often a run working here moves its lease on: two thirds of a term are left each time. */
const KEEP_EVERY_MS = LEASE_MS / 3;

/**
 * Keeps a run's lease while the run works in this process: every KEEP_EVERY_MS the lease is
 * moved on to LEASE_MS from then, while it is still the run's, so a run longer than one term
 * (a long history read here, a slow store) still commits. The answer stops it, once its last
 * extension has landed: before the run hands its shards over, writes its results or fails, so
 * those steps have at least two thirds of a term, and no extension moves the term under them.
 * A failed extension stops it too; the run's own checks (holdsLease) then decide. Where
 * runs end with their term (a Lambda invocation: `keepsLeases`), nothing is kept.
 */
function keepLease(deps: Pick<DetectServices, "records" | "linkClock" | "timer" | "keepsLeases">, term: LeaseTerm, now: number): () => Promise<void> {
  if (!deps.keepsLeases) return async () => undefined;
  const stopped = new AbortController();
  const kept = (async () => {
    while (!stopped.signal.aborted) {
      await deps.timer.sleep(KEEP_EVERY_MS, stopped.signal);
      if (stopped.signal.aborted || !(await extendLease(deps.records, term, Math.max(term.leaseUntil, leaseTime(deps, now) + LEASE_MS)))) return;
    }
  })().catch(() => undefined);
  return async () => {
    stopped.abort();
    await kept;
  };
}

/** Moves a run's lease on to `until` unless it is no longer the run's (see holdsLease): false then, and nothing is written. */
async function extendLease(records: DetectServices["records"], term: LeaseTerm, until: number): Promise<boolean> {
  const held = await records.update<{ until: number }>("leases", term.lease, (current) => (current.until === term.leaseUntil ? { until } : current));
  if (held?.until !== until) return false;
  term.leaseUntil = until;
  return true;
}

/** What a group's record keeps of it (incidents/bounded.ts): loaded with the first group a run charts or stores, as an interval without one needs none of it. */
const bounds = madeOnFirstUse(() => import("../incidents/bounded.ts"));

/**
 * The merge: the shards' anomalies, in the order one unsharded run finds them, grouped as
 * it groups them; the results and events written; then the commit. Each step is taken only
 * while the run still holds its interval (with COMMIT_MARGIN_MS of its lease left) and the
 * model is still the one it was planned on: the results, checked first, are the interval's
 * own (a re-run writes them again); the group, its events, the execution record and the
 * commit are checked again, just before.
 */
export async function finishInterval(deps: DetectServices, plan: IntervalPlan, results: readonly ShardResult[], now: number, given?: ShardedModel): Promise<IntervalOutcome> {
  const { metricSet, intervalStart } = plan;
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  const model = given ?? (await readModel(deps.blobs, root)) ?? emptyModel(intervalMs(metricSet.MetricSetFrequency), plan.hashKey);
  // A run merged where it was planned has held the model throughout; a merge run elsewhere reads it again: the model its shards were split for, or it moved
  // (a model made meanwhile with no interval learned has the base's null, but a key of its own, which the shards written were not split by).
  const moved = !given && (modelThrough(model) !== plan.base || !sameHashKey(model.hashKey, plan.hashKey));
  if (moved || !(await holdsLease(deps, plan, now))) return notCommitted(deps, plan, given ? undefined : model);
  const anomalies = anomaliesOf(results);
  const recent: RecentValues = recentValuesFrom(results, intervalMs(metricSet.MetricSetFrequency));
  const members = sumTallies(results.map(membersOf));
  const { changed: group, ended, open } = advanceGroup(groupingContextOf(metricSet), model.head.openGroup, anomalies, members, intervalStart);

  const at = intervalUri(root, intervalStart);
  const stamp = new Date(intervalStart).toISOString();
  await deps.blobs.put(joinUri(at, "anomalies.jsonl"), jsonLinesParts(anomalies, (a: Anomaly) => ({ ...a, timestamp: stamp, anomalyGroupId: group?.AnomalyGroupId })));
  // Every series' value and band this interval, and the anomalies' scores (series-points.ts).
  if (plan.scored) await keepPoints(deps, root, results);
  const quality: QualityRecord = { MetricSetArn: metricSet.MetricSetArn, intervalStart: stamp, ...plan.quality };
  await deps.blobs.put(joinUri(at, "quality.json"), JSON.stringify(quality, null, 1));
  const kept = { expiresAt: retentionStart(deps, now) + EXECUTION_RETENTION_MS };
  await deps.records.put("quality", executionKey(metricSet, intervalStart), quality, kept);
  // A run that outlived its lease (another may have taken its interval over) stops before its group, its events and its commit.
  if (!(await holdsLease(deps, plan, now))) return notCommitted(deps, plan);
  // Carried by the model to grow on, and stored and announced within its record's bounds (an item of at most 400 KB): the record of the carried group is the group's own, made from fewer series and values.
  const carried = group && (await bounds()).carriedGroup(group);
  const stored = carried && (await bounds()).boundedGroup(carried);
  if (stored) await deps.records.put("groups", groupKey(metricSet, stored.AnomalyGroupId), stored);
  // Announced before the commit: a re-run announces the same revision again, which listeners drop.
  if (stored) await deps.events.publish(groupEvent("AnomalyGroupChanged", stored, anomalies, recent, intervalStart, group));
  if (ended) await deps.events.publish(groupEvent("AnomalyGroupEnded", (await bounds()).boundedGroup(ended), [], recent, intervalStart, ended));
  const execution: IntervalExecution = {
    MetricSetArn: metricSet.MetricSetArn,
    Timestamp: stamp,
    Status: plan.failure ? "FAILED" : "COMPLETED",
    ...(plan.failure ? { FailureReason: plan.failure } : {}),
    rowsRead: plan.quality.rowsRead,
    rowsRejected: plan.quality.rowsRejected,
    seriesScored: plan.seriesScored,
    anomalies: anomalies.length,
    ...(group ? { anomalyGroupId: group.AnomalyGroupId } : {}),
  };
  // And again after the events, which may take long (a channel sent to inline): the record and the commit say the interval is done.
  if (!(await holdsLease(deps, plan, now))) return notCommitted(deps, plan);
  await deps.records.put("executions", executionKey(metricSet, intervalStart), execution, kept);

  const next: ShardedModel = {
    head: { ...model.head, through: intervalStart, openGroup: open === group ? carried : open && (await heldOn(open)), feedbackThrough: plan.feedbackThrough },
    shards: shardsAfter(model, plan.jobs, results),
    ...keyed(plan.hashKey),
  };
  await commitModel(deps.blobs, root, next);
  // Marked done whoever holds the lease now: a run that took the interval over after the check above would commit it again.
  await deps.records.put("leases", plan.lease, { until: DONE }, { expiresAt: retentionStart(deps, now) + DONE_MARKER_RETENTION_MS });
  await collectVersions(deps.blobs, root, next);
  // Every run of the interval is done with: this one, and any a lost lease left behind.
  await deps.blobs.deleteFolder(`${runsUri(root, String(intervalStart))}/`);
  return { kind: "processed", execution, group };
}

/**
 * A shard's count of the open group's members. A result of an earlier version (a run while
 * one is deployed) named the series whose deviation persists instead: each is taken for a
 * member; its anomalies join the open group only after one the interval before, and add to
 * no count a record keeps of series it let go of.
 */
const membersOf = (result: ShardResult & { readonly persisting?: readonly string[] }): MemberTally => result.members ?? { ...noMembers(), persisting: result.persisting?.length ?? 0 };

/** A group held open without anomalies, as the model carries it on: a group of every series (the format before) once its shards have marked its members (marking), else as it was. */
async function heldOn(open: AnomalyGroupRecord): Promise<AnomalyGroupRecord> {
  const { holdsMore, carriedGroup } = await bounds();
  return holdsMore(open) ? carriedGroup(open) : open;
}

const modelThrough = (model: ShardedModel) => (Number.isNaN(model.head.through) ? null : model.head.through);

/**
 * What a run that may not commit answers: the interval was committed (by another run), is
 * marked done, is held by nobody but its lease ran out (or has too little left: it is given
 * back, and the next run takes the interval over), its model moved on under it, or another
 * run holds it. `read` is the committed model, when the run read it itself.
 */
async function notCommitted(deps: DetectServices, plan: IntervalPlan, read?: ShardedModel): Promise<IntervalOutcome> {
  const model = read ?? (await readModel(deps.blobs, metricSetRoot(deps.resultsRoot, plan.metricSet)));
  const through = model ? modelThrough(model) : null;
  if (through !== null && through >= plan.intervalStart) return { kind: "already-processed" };
  const held = (await deps.records.get<{ until: number }>("leases", plan.lease))?.until;
  if (held === DONE) return { kind: "processed-elsewhere" };
  // Its own lease, or none (given back by a run that took it over and failed): nobody holds the interval.
  if (held !== undefined && held !== plan.leaseUntil) return { kind: "in-progress" };
  if (held !== undefined) await deps.records.release(plan.lease, plan.leaseUntil);
  return through === plan.base ? { kind: "lease-expired" } : { kind: "processed-elsewhere" };
}

/**
 * A run whose shards ran elsewhere, merged once the last of them is done (the shard
 * queue's merge message): reads its plan and its shards' results, commits, and goes on
 * with the metric set's next due intervals.
 */
export async function mergeRun(deps: DueServices, work: string, now: number): Promise<DueRun[]> {
  const bytes = await deps.blobs.get(planUri(work));
  if (!bytes) return []; // merged already: the run's work folder goes with its commit
  const plan = JSON.parse(new TextDecoder().decode(bytes)) as RunPlan;
  const results: ShardResult[] = [];
  for (const job of plan.jobs) {
    const found = await deps.blobs.get(resultUri(work, job.target));
    if (!found) throw new Error(`shard s${job.target} of ${work} has no result yet`);
    results.push(decodeShardResult(found));
  }
  if (plan.kind === "history") {
    if (!(await finishHistory(deps, plan, results, now))) return [];
    return (await detectMetricSet(deps, plan.metricSet, now)).runs;
  }
  const run = dueRun(plan.metricSet, plan.intervalStart, await finishInterval(deps, plan, results, now));
  deps.observer.intervalRun(run, now);
  return run.outcome.kind === "processed" ? [run, ...(await detectMetricSet(deps, plan.metricSet, now)).runs] : [run];
}

/**
 * A run whose shard kept failing (parked by the shard queue): its interval is FAILED with the
 * reason, unless the run no longer holds it; a history's, learned for an activation, fails the
 * activation with it, as one learned in the process does (activate).
 */
export async function parkRun(deps: DetectServices & Pick<Services, "region">, work: string, step: string, now: number): Promise<boolean> {
  const bytes = await deps.blobs.get(planUri(work));
  if (!bytes) return false;
  const plan = JSON.parse(new TextDecoder().decode(bytes)) as RunPlan;
  if (!(await holdsLease(deps, plan, now))) {
    // Its own lease, run out, is given back; another run's is left as it is.
    await deps.records.release(plan.lease, plan.leaseUntil);
    return false;
  }
  const recorded = await deps.blobs.get(failureUri(work, step));
  const why = recorded ? (JSON.parse(new TextDecoder().decode(recorded)) as { reason: string }).reason : "it ran out of time or memory (no error was recorded)";
  const reason = reasonFor(deps, plan.metricSet, `${step === "merge" ? "the merge" : `shard ${step}`} failed on every attempt: ${why}`);
  if (plan.kind === "history") {
    // Left ACTIVATING, the detector's next run would read its history and hand it over again, and fail again, at every run, saying nothing.
    const catalog = catalogOf(deps, systemScope(deps, arnAccount(plan.metricSet.MetricSetArn)));
    const detector = await catalog.getDetector(plan.metricSet.AnomalyDetectorArn).catch((e: unknown) => {
      if (e instanceof ResourceNotFoundException) return undefined;
      throw e;
    });
    if (detector) await catalog.moveDetectorStatus(detector, ["ACTIVATING"], "FAILED", { FailureType: "ACTIVATION_FAILURE", FailureReason: reason });
    await deps.records.release(plan.lease, plan.leaseUntil);
    await deps.blobs.deleteFolder(`${work}/`);
    return true;
  }
  return (await failRun(deps, plan.metricSet, plan.intervalStart, now, plan, work, reason)) !== undefined;
}

/** At most this many intervals are caught up in one run (over 10 weeks at PT1H); the next run goes on. */
export const MAX_CATCH_UP = 2000;
/** PENDING records a catch-up writes at once. */
const PENDING_WRITES = 25;

/** What detection has gone past, whether it ran them or not (the intervals up to `through`): a record beside the metric set's leases. */
interface Passed {
  readonly through: number;
}

const passedKey = (metricSet: Pick<MetricSet, "MetricSetArn">) => `${metricSetKey(metricSet.MetricSetArn)}/passed`;

/** Detection goes on from after `through`, passing over what it has not run before it: said so, never moved back. */
async function markPassed(deps: Pick<Services, "records">, metricSet: Pick<MetricSet, "MetricSetArn">, through: number): Promise<void> {
  const key = passedKey(metricSet);
  const moved = await deps.records.update<Passed>("leases", key, (current) => (current.through >= through ? current : { through }));
  if (moved === undefined && !(await deps.records.putMany([{ table: "leases", id: key, value: { through } satisfies Passed, ifAbsent: true }]))[0]) await markPassed(deps, metricSet, through);
}

/** How far detection has gone past, whether it ran the intervals or not; undefined before it has. */
export const passedThrough = async (deps: Pick<Services, "records">, metricSet: Pick<MetricSet, "MetricSetArn">): Promise<number | undefined> => (await deps.records.get<Passed>("leases", passedKey(metricSet)))?.through;

/**
 * Records that intervals await their run (PENDING), where no record says otherwise: a
 * catch-up's, and those rows are pushed for (push.ts). Detection passes over an interval
 * with no rows by its record (passOver), which waits for a run or push that holds it: an
 * interval without one it would go past unseen while its rows were being written.
 */
export async function markAwaiting(deps: Pick<Services, "records" | "clock" | "linkClock">, metricSet: Pick<MetricSet, "MetricSetArn">, starts: readonly number[], now: number): Promise<void> {
  await putBounded(deps, starts.map((t) => ({ table: "executions", id: executionKey(metricSet, t), value: { ...notRun(metricSet, new Date(t).toISOString()), Status: "PENDING" } satisfies IntervalExecution, expiresAt: retentionStart(deps, now) + EXECUTION_RETENTION_MS, ifAbsent: true })));
}

export { lastClosedInterval } from "../model/interval-time.ts";

/** An interval whose files held no row says so in its execution (FAILED, with this reason) and its data quality. */
export const NO_DATA = "No data: no rows were found for this interval";

export interface DueRun {
  readonly metricSet: MetricSet;
  readonly intervalStart: number;
  /** The instant the interval closed (its end; a zone's day at its midnight): lags count from it. */
  readonly closedAt: number;
  readonly outcome: IntervalOutcome;
}

const dueRun = (metricSet: MetricSet, intervalStart: number, outcome: IntervalOutcome): DueRun => ({ metricSet, intervalStart, closedAt: instantOf(metricSet, intervalStart + intervalMs(metricSet.MetricSetFrequency)), outcome });

type DueServices = DetectServices & Pick<Services, "region" | "clock" | "observer" | "quotas">;

/**
 * Processes every due interval of every detecting detector, oldest first: an outage is
 * caught up interval by interval, nothing is skipped, from where the metric set's data
 * starts. A detector asked to activate learns its history first and moves to ACTIVE, or
 * LEARNING while its model has seen too little to score; one whose data cannot be read
 * moves to FAILED with the reason. A metric set whose run fails does not stop the others;
 * the first failure is thrown at the end, so the invocation is retried.
 */
export interface DueOptions {
  /** Stops between intervals once aborted: the interval under way finishes, the rest wait for the next run. */
  readonly signal?: AbortSignal;
  /**
   * Files that just landed (S3 ObjectCreated, a local watcher): a file in the folder of an
   * interval that has closed makes that interval due at once, without waiting for the
   * Offset (DESIGN: a new file may wake detection early).
   */
  readonly arrived?: readonly string[];
  /** At most this many intervals are caught up in one run: MAX_CATCH_UP unless told. */
  readonly maxCatchUp?: number;
}

export async function detectDue(services: DueServices, now: number, options: DueOptions = {}): Promise<DueRun[]> {
  const runs: DueRun[] = [];
  const failures: unknown[] = [];
  for (const found of await Catalog.allDetectors(services.records)) {
    if (found.Status !== "ACTIVATING" && !DETECTING.has(found.Status)) continue;
    const catalog = catalogOf(services, systemScope(services, arnAccount(found.AnomalyDetectorArn)));
    const sets = await catalog.listMetricSets(found.AnomalyDetectorArn);
    const models = new Map<string, ShardedModel>();
    let detector: AnomalyDetector | undefined = found;
    if (found.Status === "ACTIVATING") detector = await activate(services, catalog, found, sets, models, now);
    if (!detector) continue;
    let through = Infinity;
    for (const metricSet of sets) {
      try {
        const done = await detectMetricSet(services, metricSet, now, models.get(metricSet.MetricSetArn), options);
        runs.push(...done.runs);
        through = Math.min(through, done.through);
      } catch (e) {
        failures.push(e);
        through = -Infinity;
        services.observer.failed("detection", e, { metricSetArn: metricSet.MetricSetArn });
      }
    }
    if (detector.Status === "LEARNING" && detector.LearningUntil && through >= Date.parse(detector.LearningUntil)) await catalog.moveDetectorStatus(detector, ["LEARNING"], "ACTIVE");
  }
  if (failures.length) throw failures[0];
  return runs;
}

/**
 * ACTIVATING → ACTIVE, LEARNING or FAILED: learns each metric set's history once (the models
 * are kept for the first run). While a metric set's history is learned elsewhere (its shards
 * handed to the shard queue, or another invocation on it), the detector stays ACTIVATING.
 */
async function activate(services: DueServices, catalog: Catalog, detector: AnomalyDetector, sets: readonly MetricSet[], models: Map<string, ShardedModel>, now: number): Promise<AnomalyDetector | undefined> {
  try {
    let short = 0;
    let until = 0;
    for (const metricSet of sets) {
      const len = intervalMs(metricSet.MetricSetFrequency);
      const last = lastClosedInterval(metricSet, now);
      const loaded = await visiting(services.records, metricSet, leaseTime(services, now), () => loadModel(services, metricSet, last, now, true));
      if (!loaded) return undefined;
      models.set(metricSet.MetricSetArn, loaded.model);
      const missing = Math.max(0, layoutFor(len).warmup - loaded.learned);
      short = Math.max(short, missing);
      until = Math.max(until, last + missing * len);
    }
    // Moved only from ACTIVATING: a detector deactivated (or being deleted) meanwhile stays as its owner left it.
    const moved = short === 0 ? await catalog.moveDetectorStatus(detector, ["ACTIVATING"], "ACTIVE") : await catalog.moveDetectorStatus(detector, ["ACTIVATING"], "LEARNING", { LearningUntil: new Date(until).toISOString() });
    return moved ? await catalog.getDetector(detector.AnomalyDetectorArn) : undefined;
  } catch (e) {
    services.observer.failed("activation", e, { anomalyDetectorArn: detector.AnomalyDetectorArn });
    await catalog.moveDetectorStatus(detector, ["ACTIVATING"], "FAILED", { FailureType: "ACTIVATION_FAILURE", FailureReason: tenantFailureReason(services, arnAccount(detector.AnomalyDetectorArn), e, sets) });
    return undefined;
  }
}

/**
 * One metric set's due intervals, oldest first, until one is left to another invocation
 * (its lease is held) or handed to the shard queue (its merge goes on from there);
 * `through` is the last interval its model has learned.
 */
export async function detectMetricSet(services: DueServices, metricSet: MetricSet, now: number, given?: ShardedModel, options: DueOptions = {}): Promise<{ runs: DueRun[]; through: number }> {
  // Nothing due, nothing written: no visit (two record writes per metric set and invocation, which file arrivals trigger by the thousand).
  const upToDate = given ? undefined : await ranThrough(services, metricSet, now, options);
  if (upToDate !== undefined) return { runs: [], through: upToDate };
  // Nothing is written for a metric set deleted, or whose detector is being deleted, since it was read (under-way.ts).
  return (await visiting(services.records, metricSet, leaseTime(services, now), () => detectStanding(services, metricSet, now, given, options))) ?? { runs: [], through: NaN };
}

/** The interval the saved model has run through, when that is the last one due (read alone: anything else, undefined). */
async function ranThrough(services: DueServices, metricSet: MetricSet, now: number, options: DueOptions): Promise<number | undefined> {
  const saved = await readModel(services.blobs, metricSetRoot(services.resultsRoot, metricSet)).catch(() => undefined);
  if (!saved || learnedAgain(saved, capacityOf(services)) || Number.isNaN(saved.head.through)) return undefined;
  const last = Math.max(lastClosedInterval(metricSet, now), landedInterval(services, metricSet, now, options.arrived ?? []));
  return saved.head.through >= last ? saved.head.through : undefined;
}

async function detectStanding(services: DueServices, metricSet: MetricSet, now: number, given: ShardedModel | undefined, options: DueOptions): Promise<{ runs: DueRun[]; through: number }> {
  const runs: DueRun[] = [];
  const len = intervalMs(metricSet.MetricSetFrequency);
  const last = Math.max(lastClosedInterval(metricSet, now), landedInterval(services, metricSet, now, options.arrived ?? []));
  const window = options.maxCatchUp ?? MAX_CATCH_UP;
  const windowStart = last - (window - 1) * len;
  let model: ShardedModel | undefined;
  let from: number;
  try {
    model = given ?? (await loadModel(services, metricSet, last, now))?.model;
    if (!model) return { runs, through: NaN };
    from = Number.isNaN(model.head.through) ? last : Math.max(model.head.through + len, windowStart);
    if (from < last) from = await firstIntervalWithData(services, metricSet, from, last);
  } catch (e) {
    const attempt = await failedBeforeLease(services, metricSet, last, now, e);
    const run = dueRun(metricSet, last, attempt.outcome);
    services.observer.intervalRun(run, now);
    // One tenant's unreadable history or folders stop its own metric set, not the others'; any other error fails the invocation too, after the other metric sets.
    if (attempt.thrown) throw attempt.thrown.error;
    return { runs: [run], through: -Infinity };
  }
  let through = model.head.through;
  // Intervals detection goes past will not be run: their records stop saying they will. One whose run another invocation still holds is waited for, as the next interval would be.
  const jumps = (Number.isNaN(through) || from > through + len) && (await notAttempted(services, metricSet, from));
  const after = Number.isNaN(through) ? windowStart - len : through;
  let held = jumps ? await passOver(services, metricSet, after, from, windowStart, window, now) : undefined;
  if (jumps && held === undefined) {
    // Said once passed over, and looked again: a push that holds an interval gone past after this refuses its rows (push.ts); one that held it before is seen here.
    await markPassed(services, metricSet, from - len);
    held = await pushedBetween(services, metricSet, after, from, now);
    // Given way after all: the intervals from the one held on await their runs, which rows pushed for them see past the mark.
    if (held !== undefined) await markAwaiting(services, metricSet, Array.from({ length: (from - held) / len }, (_, i) => held! + i * len), now);
  }
  if (held !== undefined) {
    const run = dueRun(metricSet, held, { kind: "in-progress" });
    services.observer.intervalRun(run, now);
    return { runs: [run], through };
  }
  // A catch-up says which intervals wait their turn: those without a record, as another invocation may have run some since the model was read.
  await markAwaiting(services, metricSet, Array.from({ length: Math.max(0, (last - from) / len) }, (_, i) => from + (i + 1) * len), now);
  for (let t = from; t <= last && !options.signal?.aborted; t += len) {
    const attempt = await attemptInterval(services, metricSet, t, now, model);
    const run = dueRun(metricSet, t, attempt.outcome);
    runs.push(run);
    services.observer.intervalRun(run, now);
    if (attempt.thrown) throw attempt.thrown.error;
    if (run.outcome.kind === "processed") through = t;
    // Oldest first; when another invocation is on this metric set, or its shards were handed over, leave the rest to it.
    if (run.outcome.kind !== "processed" && run.outcome.kind !== "already-processed") break;
    // The committed model goes on to the next interval.
    model = undefined;
  }
  return { runs, through };
}

/** Why an interval older than a catch-up's window (`window` intervals: MAX_CATCH_UP) is not detected. */
export const outOfWindow = (window: number) => `Not detected: it fell out of the catch-up window (the newest ${window} closed intervals), and detection went on from there`;
/** Why an interval a catch-up went past is not detected: it had no files then, or came before the first interval a model without history detected. */
export const PASSED_OVER = "Not detected: detection went on from a later interval (this one had no files when it was caught up, or came before the first interval detected)";

/**
 * Whether no run has reached `from` yet (it has no record, or a PENDING one): a run passes
 * over the intervals before `from` first, then attempts it, so once `from` has a record of
 * its own they were passed over, and a run trying `from` again (it keeps failing) does not
 * read them again. Should the record have been written before any pass (the model could not
 * be read), they are passed over once detection moves on from `from`.
 */
async function notAttempted(services: DetectServices, metricSet: MetricSet, from: number): Promise<boolean> {
  const found = await services.records.get<IntervalExecution>("executions", executionKey(metricSet, from));
  return !found || found.Status === "PENDING";
}

/**
 * The intervals after `after` and before `from`, which detection goes past, whose records
 * still say they will run (PENDING, FAILED to be run again, or IN_PROGRESS though their run's
 * lease ran out: its invocation stopped) are marked FAILED with why, not to be run again:
 * DescribeAnomalyDetectionExecutions promises no run that will not happen. Each is reported
 * to the observer by the one invocation that changed it. Answers the first interval whose
 * run another invocation still holds, if any. A jump of up to a window's intervals (a few
 * intervals without files, most often) reads those intervals' records alone; a longer one
 * reads the metric set's records a page at a time (they are kept EXECUTION_RETENTION_MS of
 * the real clock: on a simulated clock running ahead of it, as `--clock-rate` runs, they pile
 * up until the real clock catches up with their retention).
 * A model without history is passed from the window's start: it begins at the newest
 * interval and writes no PENDING record before it, so what can still await a run before
 * `from` is what earlier runs left at their own newest interval (a FAILED run to try again,
 * a stopped IN_PROGRESS) and PENDING records an earlier catch-up wrote, always within its
 * window; each run passes over what precedes it, so those older than the window were
 * passed over already, unless detection stopped for longer than the window.
 */
async function passOver(services: DueServices, metricSet: MetricSet, after: number, from: number, windowStart: number, window: number, now: number): Promise<number | undefined> {
  const len = intervalMs(metricSet.MetricSetFrequency);
  const reasonAt = (t: number) => (t < windowStart ? outOfWindow(window) : PASSED_OVER);
  // Rows being pushed for an interval without a record yet: it is not gone past (it will say it awaits its run). The holds are read once, in order: the first is all that counts.
  const pushed = await pushedBetween(services, metricSet, after, from, now);
  const visit = async (t: number, found: IntervalExecution | undefined): Promise<boolean> => {
    if (!found) return t === pushed;
    if (!awaitsRun(found) && found.Status !== "IN_PROGRESS") return false;
    const given = await giveUp(services, metricSet, t, now, reasonAt(t));
    if (given === "held") return true;
    if (given) services.observer.intervalRun(dueRun(metricSet, t, { kind: "failed", execution: given }), now);
    return false;
  };
  if ((from - after) / len <= window) {
    for (let t = after + len; t < from; t += len) if (await visit(t, await services.records.get<IntervalExecution>("executions", executionKey(metricSet, t)))) return t;
    return undefined;
  }
  if (pushed !== undefined) return pushed;
  const prefix = `${metricSetKey(metricSet.MetricSetArn)}/`;
  let cursor: string | undefined;
  do {
    const page = await services.records.listPage<IntervalExecution>("executions", { prefix, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    for (const found of page.items) {
      const t = Date.parse(found.Timestamp);
      if (t > after && t < from && (await visit(t, found))) return t;
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return undefined;
}

/**
 * The first interval after `after` and before `from` that rows are being pushed for, if any:
 * the holds are read in id order from the first interval after `after` on (interval starts
 * in epoch milliseconds have 13 digits, so their ids sort as they do), not every hold the
 * metric set's requests left.
 */
async function pushedBetween(deps: Pick<Services, "records" | "linkClock">, metricSet: Pick<MetricSet, "MetricSetArn">, after: number, from: number, now: number): Promise<number | undefined> {
  const prefix = pushHoldsOfSet(metricSet);
  const at = leaseTime(deps, now);
  let cursor: string | undefined;
  do {
    const page = await deps.records.listPage<PushHold>("leases", { prefix, limit: 1000, ...(cursor === undefined ? { after: `${prefix}${after + 1}` } : { cursor }) });
    for (const hold of page.items) {
      if (hold.start >= from) return undefined;
      if (hold.start > after && hold.until > at) return hold.start;
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return undefined;
}

/**
 * Marks one interval FAILED, not to be run again, when its record awaits a run, or says
 * IN_PROGRESS while no invocation holds its lease: that lease is taken first (claim), so of
 * racing invocations one alone takes over a run that stopped, and a live run keeps its
 * interval ("held"). Answers the record written, or undefined when this invocation changed nothing.
 */
async function giveUp(services: DetectServices, metricSet: MetricSet, intervalStart: number, now: number, reason: string): Promise<IntervalExecution | "held" | undefined> {
  const id = executionKey(metricSet, intervalStart);
  return asHeirOfStoppedRun(services, id, now, async (found) => {
    if (found === "live") {
      // Held by a live run, or marked done: a committed run's record says so once written.
      const lease = await services.records.get<{ until: number }>("leases", id);
      return lease?.until === DONE ? undefined : "held";
    }
    let changed: IntervalExecution | undefined;
    let prior: IntervalExecution | undefined;
    await services.records.update<IntervalExecution>("executions", id, (current) => {
      const before = current.Status === "FAILED" && current.FailureReason ? ` (it had failed: ${current.FailureReason})` : "";
      prior = current;
      changed = replaceable(current, found) ? { ...notRun(metricSet, current.Timestamp), Status: "FAILED", FailureReason: `${reason}${before}`.slice(0, 256) } : undefined;
      return changed ?? current;
    });
    // Rows pushed for it just now (a push that found it awaiting before this, and may be writing still): it awaits its run again.
    if (changed && (await liveHolds(services, pushHoldsOf(metricSet, intervalStart), now)).length) {
      const restored = prior!;
      await services.records.update<IntervalExecution>("executions", id, (current) => (current.Status === "FAILED" && current.FailureReason === changed!.FailureReason ? restored : current));
      return "held";
    }
    return changed;
  });
}

/** How an interval's record was found: left IN_PROGRESS by a run that stopped (its lease ran out, and is now taken), held by another (a live run, rows being pushed, the done mark), or neither. */
type RunFound = "stopped" | "live" | "none";

/**
 * Replaces interval `id`'s record through `replace`, told how its run was found. A run that
 * stopped is taken over first (its expired lease claimed), so of racing invocations one alone
 * replaces its IN_PROGRESS, a live run keeps its interval, and the lease is given back after.
 * The pre-lease FAILED write and passing over share it.
 */
async function asHeirOfStoppedRun<T>(deps: Pick<DetectServices, "records" | "linkClock">, id: string, now: number, replace: (found: RunFound) => Promise<T>): Promise<T> {
  const { records } = deps;
  const running = (await records.get<IntervalExecution>("executions", id))?.Status === "IN_PROGRESS";
  const claimedAt = leaseTime(deps, now);
  // Taken whatever the record says: a run about to record that it began, and rows being written for the interval (push.ts), hold it too.
  const claimed = await records.claim(id, claimedAt + LEASE_MS, claimedAt);
  const found: RunFound = !claimed ? "live" : running ? "stopped" : "none";
  try {
    return await replace(found);
  } finally {
    if (claimed) await records.release(id, claimedAt + LEASE_MS);
  }
}

/** Whether a record may be replaced by an invocation that found its run so: it awaits a run, or its run stopped. */
const replaceable = (current: IntervalExecution, found: RunFound) => awaitsRun(current) || (found === "stopped" && current.Status === "IN_PROGRESS");

/** The newest closed interval (before `now`) one of `files` landed in, or -Infinity. */
function landedInterval(services: Pick<Services, "resultsRoot">, metricSet: MetricSet, now: number, files: readonly string[]): number {
  const template = readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet)).MetricSource.S3SourceConfig?.TemplatedPathList?.[0];
  if (!template || !files.length) return -Infinity;
  const len = intervalMs(metricSet.MetricSetFrequency);
  const intervalOf = templateInterval(template, templateZone(metricSet));
  const span = templateSpanMs(template, len);
  let newest = -Infinity;
  for (const file of files) {
    const t = intervalOf(file);
    // A folder coarser than the interval (a day of hourly files) counts only once the whole span has closed (a zone's day at its own midnight).
    if (t !== undefined && instantOf(metricSet, t + span) <= now) newest = Math.max(newest, Math.floor((t + span - len) / len) * len);
  }
  return newest;
}

/**
 * Where catching up from `from` to `last` starts: at the first interval that has files, so
 * a detector whose data stopped (or a clock far past it) does not walk empty intervals;
 * `last` when none has, so the newest says it had no data.
 */
async function firstIntervalWithData(services: DetectServices, metricSet: MetricSet, from: number, last: number): Promise<number> {
  const live = templatedIntervals(readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet)));
  if (!live) return from;
  let first = Infinity;
  for (const file of await filesOf(services, metricSet).list(templatePrefix(live.template))) {
    const t = live.intervalOf(file);
    if (t === undefined) continue;
    const start = Math.max(from, t);
    if (start <= last && start < first) first = start;
  }
  return first === Infinity ? last : first;
}

/**
 * After the only process that runs detection stopped without finishing (a crash, `kill -9`),
 * the leases it held would keep their intervals waiting for LEASE_MS: the next start,
 * which knows no other process runs, releases them. Only an interval a model has not
 * learned can hold one: the next after the model's last, or, before any, a recent one, or
 * the learning of its history (first, or again for a new engine). Answers the leases
 * released, and apart from them the visits it ended (a kill during a visit leaves one).
 */
export async function releaseStaleLeases(services: DueServices, now: number): Promise<{ leases: number; visits: number }> {
  let released = 0;
  let visits = 0;
  for (const detector of await Catalog.allDetectors(services.records)) {
    const sets = await catalogOf(services, systemScope(services, arnAccount(detector.AnomalyDetectorArn))).listMetricSets(detector.AnomalyDetectorArn);
    // Visits a stopped process never ended, whatever the detector's status: a deletion would wait for them until their term.
    for (const metricSet of sets) visits += await endVisits(services.records, metricSet);
    if (detector.Status !== "ACTIVATING" && !DETECTING.has(detector.Status)) continue;
    for (const metricSet of sets) {
      const len = intervalMs(metricSet.MetricSetFrequency);
      const model = await readModel(services.blobs, metricSetRoot(services.resultsRoot, metricSet));
      const through = model?.head.through ?? NaN;
      const last = lastClosedInterval(metricSet, now);
      const keys = Number.isNaN(through) ? [historyKey(metricSet), ...Array.from({ length: 48 }, (_, i) => executionKey(metricSet, last - i * len))] : [...(model && learnedAgain(model, capacityOf(services)) ? [historyKey(metricSet)] : []), executionKey(metricSet, through + len)];
      for (const key of keys) {
        const held = await services.records.get<{ until: number }>("leases", key);
        if (held && held.until !== DONE) {
          await services.records.delete("leases", key);
          released++;
        }
      }
    }
  }
  return { leases: released, visits };
}
