import { Catalog } from "../catalog/catalog.ts";
import { groupEvent } from "../detect/group-event.ts";
import { intervalFolder, readableOf, readAndAggregate, readInterval } from "../detect/read-files.ts";
import { intervalUri, metricSetRoot, modelUri, toJsonLines } from "../detect/results.ts";
import { scoreInterval } from "../detect/score-interval.ts";
import { decodeSnapshot, decodeSnapshotMeta, encodeSnapshot, type ModelSnapshot } from "../detect/snapshot.ts";
import { RECENT, SeriesBank, SnapshotFormatChanged } from "../engine/bank.ts";
import { layoutFor } from "../engine/layout.ts";
import type { DataQualityReport, IntervalCells } from "../ingest/aggregate.ts";
import { advanceGroup, groupingContextOf } from "../incidents/grouping.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import { intervalMs } from "../model/frequency.ts";
import { DETECTING, type AnomalyDetector } from "../model/detector.ts";
import { L4M_QUOTAS, QUOTA_CODES } from "../model/quotas.ts";
import { arnAccount, metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { joinUri, templateInterval, templatePrefix, templateSpanMs } from "../model/path-template.ts";
import { AccessDeniedException } from "../model/errors.ts";
import { metricSetFiles } from "./data.ts";
import { learnFeedback } from "./feedback.ts";
import { keepSeriesPoints, keptPoints } from "./history.ts";
import { catalogOf, systemScope } from "./scope.ts";
import type { Services } from "./services.ts";

/** What detection reads and writes. */
export type DetectServices = Pick<Services, "blobs" | "dataFiles" | "dataRootsOf" | "records" | "events" | "resultsRoot" | "quotas">;

/** A metric set's files, read for its tenant as the tenant may read them (its data roots, or its role). */
const filesOf = (deps: DetectServices, metricSet: MetricSet) => metricSetFiles(deps, systemScope(deps, arnAccount(metricSet.MetricSetArn)), metricSet);

/** L4M's ExecutionStatus for one interval, with Vigil's figures. */
export interface IntervalExecution {
  readonly MetricSetArn: string;
  readonly Timestamp: string;
  /**
   * L4M's: PENDING while a catch-up has yet to reach it, IN_PROGRESS while it runs; FAILED
   * when it had no rows or too many series (it is not run again) or its run failed (it is).
   */
  readonly Status: "PENDING" | "IN_PROGRESS" | "COMPLETED" | "FAILED";
  readonly FailureReason?: string;
  readonly rowsRead: number;
  readonly rowsRejected: number;
  /** Series (measure × dimension values) with a value this interval. */
  readonly seriesScored: number;
  readonly anomalies: number;
  readonly anomalyGroupId?: string;
}

/** What detection recorded of one interval's rows: L4M's data quality metrics come from it. */
export type QualityRecord = DataQualityReport & { readonly MetricSetArn: string; readonly intervalStart: string };

export type IntervalOutcome =
  | { readonly kind: "processed"; readonly execution: IntervalExecution; readonly group: AnomalyGroupRecord | undefined }
  | { readonly kind: "already-processed" }
  /** Another invocation holds the interval's lease: it is being processed now. */
  | { readonly kind: "in-progress" }
  /** Another invocation processed it after this one loaded its model: that model is stale. */
  | { readonly kind: "processed-elsewhere" }
  /** Its files may not be read (outside the tenant's data roots, or its role refused): recorded FAILED, tried again next run. */
  | { readonly kind: "failed"; readonly execution: IntervalExecution };

/** How long an invocation may hold an interval: Lambda's longest run. */
export const LEASE_MS = 15 * 60_000;
/** A lease that never runs out marks an interval as done. */
const DONE = Number.MAX_SAFE_INTEGER;
const DAY = 86_400_000;
/** Execution and data quality records are kept this long (the API reports recent runs). */
export const EXECUTION_RETENTION_MS = 90 * DAY;
/** A done marker only guards against a stale invocation, which cannot outlive a day; kept a month. */
const DONE_MARKER_RETENTION_MS = 30 * DAY;

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

/** The model of a metric set, learned from its history the first time. */
export async function loadModel(deps: DetectServices, metricSet: MetricSet, before: number): Promise<ModelSnapshot> {
  return (await loadOrLearn(deps, metricSet, before)).model;
}

/** The saved model, or one learned from the history before `before`, with how many intervals it learned (Infinity: saved). */
async function loadOrLearn(deps: DetectServices, metricSet: MetricSet, before: number): Promise<{ model: ModelSnapshot; learned: number }> {
  const bytes = await deps.blobs.get(modelUri(metricSetRoot(deps.resultsRoot, metricSet)));
  const saved = bytes ? savedModel(bytes) : undefined;
  if (saved && !("changed" in saved)) return { model: saved, learned: Infinity };
  const len = intervalMs(metricSet.MetricSetFrequency);
  // A model of an older engine is learned again from the history; where detection had got to, and its open group, are kept.
  const snapshot: ModelSnapshot = { bank: new SeriesBank(len), through: NaN, openGroup: undefined, feedbackThrough: 0 };
  const readable = readableOf(metricSet, metricSetRoot(deps.resultsRoot, metricSet));
  const history = await readAndAggregate(filesOf(deps, metricSet), readable, historyPrefixes(readable));
  const starts = [...history.intervals.keys()].filter((t) => t < before).sort((a, b) => a - b);
  for (const t of starts) {
    scoreInterval(snapshot.bank, metricSet, history.intervals.get(t), t, { learnOnly: true });
    snapshot.through = t;
  }
  // The last learned intervals' bands, from the engine's ring: the context of the first live incidents.
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  for (const t of starts.slice(-RECENT)) await keepSeriesPoints(deps.blobs, root, t, keptPoints(snapshot.bank, metricSet, history.intervals.get(t), t, "learned"));
  if (saved) {
    const through = [snapshot.through, saved.through].filter(Number.isFinite);
    return { model: { ...snapshot, through: through.length ? Math.max(...through) : NaN, openGroup: saved.openGroup, feedbackThrough: saved.feedbackThrough }, learned: starts.length };
  }
  return { model: snapshot, learned: starts.length };
}

/** The saved snapshot, or, when an older engine saved it, what it says beside its model. */
function savedModel(bytes: Uint8Array): ModelSnapshot | (Omit<ModelSnapshot, "bank"> & { readonly changed: true }) {
  try {
    return decodeSnapshot(bytes);
  } catch (e) {
    if (e instanceof SnapshotFormatChanged) return { ...decodeSnapshotMeta(bytes), changed: true };
    throw e;
  }
}

function seriesWithValues(cells: IntervalCells | undefined, metricSet: MetricSet): number {
  let n = 0;
  for (const cell of cells?.values() ?? []) metricSet.MetricList.forEach((_, m) => (n += cell.counts[m]! > 0 ? 1 : 0));
  return n;
}

/** An execution record before its figures are known. */
const notRun = (metricSet: Pick<MetricSet, "MetricSetArn">, stamp: string) => ({ MetricSetArn: metricSet.MetricSetArn, Timestamp: stamp, rowsRead: 0, rowsRejected: 0, seriesScored: 0, anomalies: 0 });

export const executionKey = (metricSet: Pick<MetricSet, "MetricSetArn">, intervalStart: number) => `${metricSetKey(metricSet.MetricSetArn)}/${intervalStart}`;
export const groupKey = (metricSet: Pick<MetricSet, "MetricSetArn">, groupId: string) => `${metricSetKey(metricSet.MetricSetArn)}/${groupId}`;

/**
 * Detects one interval of one metric set: take the interval's lease (so of two racing
 * invocations one does the work), read and validate its files, score every series, group
 * the anomalies, write results, then commit by saving the model snapshot, which records the
 * interval as done, and mark the lease done. Anything written before the commit is keyed
 * by interval or group id, so a re-run after a crash rewrites the same records.
 */
export async function detectInterval(deps: DetectServices, metricSet: MetricSet, intervalStart: number, now: number, snapshot?: ModelSnapshot): Promise<IntervalOutcome> {
  const model = snapshot ?? (await loadModel(deps, metricSet, intervalStart));
  if (model.through >= intervalStart) return { kind: "already-processed" };
  const lease = executionKey(metricSet, intervalStart);
  if (!(await deps.records.claim(lease, now + LEASE_MS, now))) {
    const held = await deps.records.get<{ until: number }>("leases", lease);
    return held?.until === DONE ? { kind: "processed-elsewhere" } : { kind: "in-progress" };
  }
  const stamp = new Date(intervalStart).toISOString();
  const kept = { expiresAt: now + EXECUTION_RETENTION_MS };
  await deps.records.put("executions", lease, { ...notRun(metricSet, stamp), Status: "IN_PROGRESS" } satisfies IntervalExecution, kept);
  try {
    return await runInterval(deps, metricSet, intervalStart, now, model, lease);
  } catch (e) {
    // Said in the interval's execution, and left to the next run: the lease goes, the model was not committed.
    const execution = failedExecution(metricSet, intervalStart, e);
    await deps.records.put("executions", lease, execution, kept);
    await deps.records.delete("leases", lease);
    // Files the tenant may not read fail the interval, not the run: the other metric sets and tenants go on.
    if (e instanceof AccessDeniedException) return { kind: "failed", execution };
    throw e;
  }
}

/** An interval that could not run, as L4M's FAILED execution says it: with why. */
const failedExecution = (metricSet: Pick<MetricSet, "MetricSetArn">, intervalStart: number, e: unknown): IntervalExecution => ({ ...notRun(metricSet, new Date(intervalStart).toISOString()), Status: "FAILED", FailureReason: failureReasonOf(e) });

/** An interval whose history or folders may not be read, found before its lease was taken: recorded FAILED, nothing else written. */
async function refused(deps: Pick<DetectServices, "records">, metricSet: MetricSet, intervalStart: number, now: number, error: AccessDeniedException): Promise<IntervalOutcome> {
  const execution = failedExecution(metricSet, intervalStart, error);
  await deps.records.put("executions", executionKey(metricSet, intervalStart), execution, { expiresAt: now + EXECUTION_RETENTION_MS });
  return { kind: "failed", execution };
}

async function runInterval(deps: DetectServices, metricSet: MetricSet, intervalStart: number, now: number, model: ModelSnapshot, lease: string): Promise<IntervalOutcome> {
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  // Read first: an interval whose files are refused leaves the model as it was.
  const data = await readInterval(filesOf(deps, metricSet), readableOf(metricSet, root), intervalStart);
  await learnFeedback(deps.records, metricSet, model);
  // L4M's quota on series: an interval over it is not scored, and says why.
  const seriesQuota = (deps.quotas ?? L4M_QUOTAS).seriesPerMetricSet[metricSet.MetricSetFrequency];
  const overQuota = data.quality.timeSeriesCount > seriesQuota;
  const persisting = new Set<string>();
  const anomalies = overQuota ? [] : scoreInterval(model.bank, metricSet, data.intervals.get(intervalStart), intervalStart, { persisting });
  const { changed: group, ended, open } = advanceGroup(groupingContextOf(metricSet), model.openGroup, anomalies, persisting, intervalStart);

  const at = intervalUri(root, intervalStart);
  const stamp = new Date(intervalStart).toISOString();
  const tagged = anomalies.map((a) => ({ ...a, timestamp: stamp, anomalyGroupId: group?.AnomalyGroupId }));
  await deps.blobs.put(joinUri(at, "anomalies.jsonl"), toJsonLines(tagged));
  await deps.blobs.put(joinUri(at, "rejects.jsonl"), toJsonLines(data.rejects), "rejects");
  // Every series' value and band this interval, and the anomalies' scores (history.ts).
  if (!overQuota) await keepSeriesPoints(deps.blobs, root, intervalStart, keptPoints(model.bank, metricSet, data.intervals.get(intervalStart), intervalStart, anomalies));
  const quality: QualityRecord = { MetricSetArn: metricSet.MetricSetArn, intervalStart: stamp, ...data.quality };
  const noRows = data.quality.rowsRead === 0;
  await deps.blobs.put(joinUri(at, "quality.json"), JSON.stringify(quality, null, 1));
  const kept = { expiresAt: now + EXECUTION_RETENTION_MS };
  await deps.records.put("quality", executionKey(metricSet, intervalStart), quality, kept);
  if (group) await deps.records.put("groups", groupKey(metricSet, group.AnomalyGroupId), group);
  // Announced before the commit: a re-run announces the same revision again, which listeners drop.
  if (group) await deps.events.publish(groupEvent("AnomalyGroupChanged", group, anomalies, model.bank, intervalStart));
  if (ended) await deps.events.publish(groupEvent("AnomalyGroupEnded", ended, [], model.bank, intervalStart));
  const execution: IntervalExecution = {
    MetricSetArn: metricSet.MetricSetArn,
    Timestamp: stamp,
    Status: noRows || overQuota ? "FAILED" : "COMPLETED",
    ...(noRows ? { FailureReason: `${NO_DATA} (${intervalFolder(readableOf(metricSet, root), intervalStart) ?? "no path"})`.slice(0, 256) } : {}),
    ...(overQuota ? { FailureReason: `ServiceQuotaExceeded ${QUOTA_CODES.seriesPerMetricSet}: ${data.quality.timeSeriesCount} time series, the quota is ${seriesQuota}` } : {}),
    rowsRead: data.quality.rowsRead,
    rowsRejected: data.quality.rowsRejected,
    seriesScored: seriesWithValues(data.intervals.get(intervalStart), metricSet),
    anomalies: anomalies.length,
    ...(group ? { anomalyGroupId: group.AnomalyGroupId } : {}),
  };
  await deps.records.put("executions", executionKey(metricSet, intervalStart), execution, kept);

  model.through = intervalStart;
  model.openGroup = open;
  await deps.blobs.put(modelUri(root), encodeSnapshot(model));
  await deps.records.put("leases", lease, { until: DONE }, { expiresAt: now + DONE_MARKER_RETENTION_MS });
  return { kind: "processed", execution, group };
}

/** At most this many intervals are caught up in one run (over 10 weeks at PT1H); the next run goes on. */
export const MAX_CATCH_UP = 2000;

/** Start of the newest interval that has closed by `now`, allowing for the metric set's Offset (seconds). */
export function lastClosedInterval(metricSet: Pick<MetricSet, "MetricSetFrequency" | "Offset">, now: number): number {
  const len = intervalMs(metricSet.MetricSetFrequency);
  return Math.floor((now - (metricSet.Offset ?? 0) * 1000) / len) * len - len;
}

/** An interval whose files held no row says so in its execution (FAILED, with this reason) and its data quality. */
export const NO_DATA = "No data: no rows were found for this interval";

export interface DueRun {
  readonly metricSet: MetricSet;
  readonly intervalStart: number;
  readonly outcome: IntervalOutcome;
}

type DueServices = DetectServices & Pick<Services, "region" | "clock" | "observer" | "quotas">;

/** A failure's reason as L4M's FailureReason carries it (at most 256 characters). */
export const failureReasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 256);

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
}

export async function detectDue(services: DueServices, now: number, options: DueOptions = {}): Promise<DueRun[]> {
  const runs: DueRun[] = [];
  const failures: unknown[] = [];
  for (const found of await Catalog.allDetectors(services.records)) {
    if (found.Status !== "ACTIVATING" && !DETECTING.has(found.Status)) continue;
    const catalog = catalogOf(services, systemScope(services, arnAccount(found.AnomalyDetectorArn)));
    const sets = await catalog.listMetricSets(found.AnomalyDetectorArn);
    const models = new Map<string, ModelSnapshot>();
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
    if (detector.Status === "LEARNING" && detector.LearningUntil && through >= Date.parse(detector.LearningUntil)) await catalog.setDetectorStatus(detector.AnomalyDetectorArn, "ACTIVE");
  }
  if (failures.length) throw failures[0];
  return runs;
}

/** ACTIVATING → ACTIVE, LEARNING or FAILED: learns each metric set's history once (the models are kept for the first run). */
async function activate(services: DueServices, catalog: Catalog, detector: AnomalyDetector, sets: readonly MetricSet[], models: Map<string, ModelSnapshot>, now: number): Promise<AnomalyDetector | undefined> {
  try {
    let short = 0;
    let until = 0;
    for (const metricSet of sets) {
      const len = intervalMs(metricSet.MetricSetFrequency);
      const last = lastClosedInterval(metricSet, now);
      const { model, learned } = await loadOrLearn(services, metricSet, last);
      models.set(metricSet.MetricSetArn, model);
      const missing = Math.max(0, layoutFor(len).warmup - learned);
      short = Math.max(short, missing);
      until = Math.max(until, last + missing * len);
    }
    return short === 0 ? await catalog.setDetectorStatus(detector.AnomalyDetectorArn, "ACTIVE") : await catalog.setDetectorStatus(detector.AnomalyDetectorArn, "LEARNING", { LearningUntil: new Date(until).toISOString() });
  } catch (e) {
    services.observer.failed("activation", e, { anomalyDetectorArn: detector.AnomalyDetectorArn });
    await catalog.setDetectorStatus(detector.AnomalyDetectorArn, "FAILED", { FailureType: "ACTIVATION_FAILURE", FailureReason: failureReasonOf(e) });
    return undefined;
  }
}

/** One metric set's due intervals, oldest first; `through` is the last interval its model has learned. */
async function detectMetricSet(services: DueServices, metricSet: MetricSet, now: number, given: ModelSnapshot | undefined, options: DueOptions): Promise<{ runs: DueRun[]; through: number }> {
  const runs: DueRun[] = [];
  const len = intervalMs(metricSet.MetricSetFrequency);
  const last = Math.max(lastClosedInterval(metricSet, now), landedInterval(services, metricSet, now, options.arrived ?? []));
  let model: ModelSnapshot;
  let from: number;
  try {
    model = given ?? (await loadModel(services, metricSet, last));
    from = Number.isNaN(model.through) ? last : Math.max(model.through + len, last - (MAX_CATCH_UP - 1) * len);
    if (from < last) from = await firstIntervalWithData(services, metricSet, from, last);
  } catch (e) {
    if (!(e instanceof AccessDeniedException)) throw e;
    // One tenant's unreadable history or folders stop its own metric set, not the others'.
    const run = { metricSet, intervalStart: last, outcome: await refused(services, metricSet, last, now, e) };
    services.observer.intervalRun(run, now);
    return { runs: [run], through: -Infinity };
  }
  // A catch-up says which intervals wait their turn.
  if (from < last) for (let t = from + len; t <= last; t += len) await services.records.put("executions", executionKey(metricSet, t), { ...notRun(metricSet, new Date(t).toISOString()), Status: "PENDING" } satisfies IntervalExecution, { expiresAt: now + EXECUTION_RETENTION_MS });
  for (let t = from; t <= last && !options.signal?.aborted; t += len) {
    // Oldest first; when another invocation is on this metric set, leave the rest to it.
    const run = { metricSet, intervalStart: t, outcome: await detectInterval(services, metricSet, t, now, model) };
    runs.push(run);
    services.observer.intervalRun(run, now);
    if (run.outcome.kind === "in-progress" || run.outcome.kind === "processed-elsewhere" || run.outcome.kind === "failed") break;
  }
  return { runs, through: model.through };
}

/** The newest closed interval (before `now`) one of `files` landed in, or -Infinity. */
function landedInterval(services: Pick<Services, "resultsRoot">, metricSet: MetricSet, now: number, files: readonly string[]): number {
  const template = readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet)).MetricSource.S3SourceConfig?.TemplatedPathList?.[0];
  if (!template || !files.length) return -Infinity;
  const len = intervalMs(metricSet.MetricSetFrequency);
  const intervalOf = templateInterval(template, metricSet.Timezone ?? "UTC");
  const span = templateSpanMs(template, len);
  let newest = -Infinity;
  for (const file of files) {
    const t = intervalOf(file);
    // A folder coarser than the interval (a day of hourly files) counts only once the whole span has closed.
    if (t !== undefined && t + span <= now) newest = Math.max(newest, Math.floor((t + span - len) / len) * len);
  }
  return newest;
}

/**
 * Where catching up from `from` to `last` starts: at the first interval that has files, so
 * a detector whose data stopped (or a clock far past it) does not walk empty intervals;
 * `last` when none has, so the newest says it had no data.
 */
async function firstIntervalWithData(services: DetectServices, metricSet: MetricSet, from: number, last: number): Promise<number> {
  const readable = readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet));
  const template = readable.MetricSource.S3SourceConfig?.TemplatedPathList?.[0];
  if (!template) return from;
  const len = intervalMs(metricSet.MetricSetFrequency);
  const intervalOf = templateInterval(template, readable.Timezone ?? "UTC");
  let first = Infinity;
  for (const file of await filesOf(services, metricSet).list(templatePrefix(template))) {
    const t = intervalOf(file);
    if (t === undefined) continue;
    // A template coarser than the frequency (a daily folder of hourly data) names the first interval of its span.
    const start = Math.max(from, Math.floor(t / len) * len);
    if (start <= last && start < first) first = start;
  }
  return first === Infinity ? last : first;
}

/**
 * After the only process that runs detection stopped without finishing (a crash, `kill -9`),
 * the leases it held would keep their intervals waiting for LEASE_MS: the next start,
 * which knows no other process runs, releases them. Only an interval a model has not
 * learned can hold one: the next after the model's last, or, before any, a recent one.
 */
export async function releaseStaleLeases(services: DueServices, now: number): Promise<number> {
  let released = 0;
  for (const detector of await Catalog.allDetectors(services.records)) {
    if (!DETECTING.has(detector.Status)) continue;
    for (const metricSet of await catalogOf(services, systemScope(services, arnAccount(detector.AnomalyDetectorArn))).listMetricSets(detector.AnomalyDetectorArn)) {
      const len = intervalMs(metricSet.MetricSetFrequency);
      const bytes = await services.blobs.get(modelUri(metricSetRoot(services.resultsRoot, metricSet)));
      const through = bytes ? decodeSnapshot(bytes).through : NaN;
      const last = lastClosedInterval(metricSet, now);
      const candidates = Number.isNaN(through) ? Array.from({ length: 48 }, (_, i) => last - i * len) : [through + len];
      for (const t of candidates) {
        const key = executionKey(metricSet, t);
        const held = await services.records.get<{ until: number }>("leases", key);
        if (held && held.until !== DONE) {
          await services.records.delete("leases", key);
          released++;
        }
      }
    }
  }
  return released;
}
