import { Catalog } from "../catalog/catalog.ts";
import { groupEvent } from "../detect/group-event.ts";
import { readableOf, readHistory, readInterval } from "../detect/read-files.ts";
import { intervalUri, metricSetRoot, modelUri, toJsonLines } from "../detect/results.ts";
import { scoreInterval } from "../detect/score-interval.ts";
import { decodeSnapshot, encodeSnapshot, type ModelSnapshot } from "../detect/snapshot.ts";
import { SeriesBank } from "../engine/bank.ts";
import type { DataQualityReport, IntervalCells } from "../ingest/aggregate.ts";
import { groupingContextOf, groupInterval } from "../incidents/grouping.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import { intervalMs } from "../model/frequency.ts";
import { arnAccount, metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { joinUri } from "../model/path-template.ts";
import { AccessDeniedException } from "../model/errors.ts";
import { metricSetFiles } from "./data.ts";
import { learnFeedback } from "./feedback.ts";
import { catalogOf, systemScope } from "./scope.ts";
import type { Services } from "./services.ts";

/** What detection reads and writes. */
export type DetectServices = Pick<Services, "blobs" | "dataFiles" | "dataRootsOf" | "records" | "events" | "resultsRoot">;

/** A metric set's files, read for its tenant as the tenant may read them (its data roots, or its role). */
const filesOf = (deps: DetectServices, metricSet: MetricSet) => metricSetFiles(deps, systemScope(deps, arnAccount(metricSet.MetricSetArn)), metricSet);

/** L4M's ExecutionStatus for one interval, with Vigil's figures. */
export interface IntervalExecution {
  readonly MetricSetArn: string;
  readonly Timestamp: string;
  readonly Status: "COMPLETED" | "FAILED";
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

/** The model of a metric set, learned from its history the first time. */
export async function loadModel(deps: DetectServices, metricSet: MetricSet, before: number): Promise<ModelSnapshot> {
  const bytes = await deps.blobs.get(modelUri(metricSetRoot(deps.resultsRoot, metricSet)));
  if (bytes) return decodeSnapshot(bytes);
  const len = intervalMs(metricSet.MetricSetFrequency);
  const snapshot: ModelSnapshot = { bank: new SeriesBank(len), through: NaN, openGroup: undefined, feedbackThrough: 0 };
  const history = await readHistory(filesOf(deps, metricSet), readableOf(metricSet, metricSetRoot(deps.resultsRoot, metricSet)));
  for (const t of [...history.intervals.keys()].filter((t) => t < before).sort((a, b) => a - b)) {
    scoreInterval(snapshot.bank, metricSet, history.intervals.get(t), t, { learnOnly: true });
    snapshot.through = t;
  }
  return snapshot;
}

function seriesWithValues(cells: IntervalCells | undefined, metricSet: MetricSet): number {
  let n = 0;
  for (const cell of cells?.values() ?? []) metricSet.MetricList.forEach((_, m) => (n += cell.counts[m]! > 0 ? 1 : 0));
  return n;
}

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
  const root = metricSetRoot(deps.resultsRoot, metricSet);
  let data: Awaited<ReturnType<typeof readInterval>>;
  try {
    data = await readInterval(filesOf(deps, metricSet), readableOf(metricSet, root), intervalStart);
  } catch (e) {
    if (!(e instanceof AccessDeniedException)) throw e;
    // The lease is this run's, taken above: given back, so a run after the tenant's fix takes the interval up.
    await deps.records.delete("leases", lease);
    return refused(deps, metricSet, intervalStart, now, e);
  }
  await learnFeedback(deps.records, metricSet, model);
  const anomalies = scoreInterval(model.bank, metricSet, data.intervals.get(intervalStart), intervalStart);
  const group = groupInterval(groupingContextOf(metricSet), model.openGroup, anomalies, intervalStart);

  const at = intervalUri(root, intervalStart);
  const stamp = new Date(intervalStart).toISOString();
  const tagged = anomalies.map((a) => ({ ...a, timestamp: stamp, anomalyGroupId: group?.AnomalyGroupId }));
  await deps.blobs.put(joinUri(at, "anomalies.jsonl"), toJsonLines(tagged));
  await deps.blobs.put(joinUri(at, "rejects.jsonl"), toJsonLines(data.rejects), "rejects");
  const quality: QualityRecord = { MetricSetArn: metricSet.MetricSetArn, intervalStart: stamp, ...data.quality };
  await deps.blobs.put(joinUri(at, "quality.json"), JSON.stringify(quality, null, 1));
  const kept = { expiresAt: now + EXECUTION_RETENTION_MS };
  await deps.records.put("quality", executionKey(metricSet, intervalStart), quality, kept);
  // The open group always ends at the interval before: a quiet interval closes it.
  const ended = group ? undefined : model.openGroup;
  if (group) await deps.records.put("groups", groupKey(metricSet, group.AnomalyGroupId), group);
  // Announced before the commit: a re-run announces the same revision again, which listeners drop.
  if (group) await deps.events.publish(groupEvent("AnomalyGroupChanged", group, anomalies, model.bank, intervalStart));
  if (ended) await deps.events.publish(groupEvent("AnomalyGroupEnded", ended, [], model.bank, intervalStart));
  const execution: IntervalExecution = {
    MetricSetArn: metricSet.MetricSetArn,
    Timestamp: stamp,
    Status: "COMPLETED",
    rowsRead: data.quality.rowsRead,
    rowsRejected: data.quality.rowsRejected,
    seriesScored: seriesWithValues(data.intervals.get(intervalStart), metricSet),
    anomalies: anomalies.length,
    ...(group ? { anomalyGroupId: group.AnomalyGroupId } : {}),
  };
  await deps.records.put("executions", executionKey(metricSet, intervalStart), execution, kept);

  model.through = intervalStart;
  model.openGroup = group ?? (ended ? undefined : model.openGroup);
  await deps.blobs.put(modelUri(root), encodeSnapshot(model));
  await deps.records.put("leases", lease, { until: DONE }, { expiresAt: now + DONE_MARKER_RETENTION_MS });
  return { kind: "processed", execution, group };
}

/** An interval whose files may not be read: kept as L4M's FAILED execution, with why, and nothing else written. */
async function refused(deps: Pick<DetectServices, "records">, metricSet: MetricSet, intervalStart: number, now: number, error: AccessDeniedException): Promise<IntervalOutcome> {
  const execution: IntervalExecution = { MetricSetArn: metricSet.MetricSetArn, Timestamp: new Date(intervalStart).toISOString(), Status: "FAILED", FailureReason: error.message, rowsRead: 0, rowsRejected: 0, seriesScored: 0, anomalies: 0 };
  await deps.records.put("executions", executionKey(metricSet, intervalStart), execution, { expiresAt: now + EXECUTION_RETENTION_MS });
  return { kind: "failed", execution };
}

/** At most this many intervals are caught up in one run (over 10 weeks at PT1H); the next run goes on. */
export const MAX_CATCH_UP = 2000;

/** Start of the newest interval that has closed by `now`, allowing for the metric set's Offset (seconds). */
export function lastClosedInterval(metricSet: Pick<MetricSet, "MetricSetFrequency" | "Offset">, now: number): number {
  const len = intervalMs(metricSet.MetricSetFrequency);
  return Math.floor((now - (metricSet.Offset ?? 0) * 1000) / len) * len - len;
}

export interface DueRun {
  readonly metricSet: MetricSet;
  readonly intervalStart: number;
  readonly outcome: IntervalOutcome;
}

/**
 * Processes every due interval of every active detector, oldest first: an outage is
 * caught up interval by interval, nothing is skipped. A detector's first run starts at
 * the newest closed interval, after learning its history.
 */
export async function detectDue(services: DetectServices & Pick<Services, "region" | "clock" | "observer">, now: number): Promise<DueRun[]> {
  const runs: DueRun[] = [];
  for (const detector of await Catalog.allDetectors(services.records)) {
    if (detector.Status !== "ACTIVE") continue;
    const catalog = catalogOf(services, systemScope(services, arnAccount(detector.AnomalyDetectorArn)));
    for (const metricSet of await catalog.listMetricSets(detector.AnomalyDetectorArn)) {
      const len = intervalMs(metricSet.MetricSetFrequency);
      const last = lastClosedInterval(metricSet, now);
      let model: ModelSnapshot;
      try {
        model = await loadModel(services, metricSet, last);
      } catch (e) {
        if (!(e instanceof AccessDeniedException)) throw e;
        // One tenant's unreadable history stops its own metric set, not the others'.
        const run = { metricSet, intervalStart: last, outcome: await refused(services, metricSet, last, now, e) };
        runs.push(run);
        services.observer.intervalRun(run, now);
        continue;
      }
      const from = Number.isNaN(model.through) ? last : Math.max(model.through + len, last - (MAX_CATCH_UP - 1) * len);
      for (let t = from; t <= last; t += len) {
        // Oldest first; when another invocation is on this metric set, leave the rest to it.
        const run = { metricSet, intervalStart: t, outcome: await detectInterval(services, metricSet, t, now, model) };
        runs.push(run);
        services.observer.intervalRun(run, now);
        if (run.outcome.kind === "in-progress" || run.outcome.kind === "processed-elsewhere" || run.outcome.kind === "failed") break;
      }
    }
  }
  return runs;
}
