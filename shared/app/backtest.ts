import { Catalog } from "../catalog/catalog.ts";
import type { BacktestOptions, BacktestResult } from "../detect/backtest.ts";
import { readableOf, readAndAggregate } from "../detect/read-files.ts";
import { metricSetRoot, pathsShownFor } from "../detect/results.ts";
import type { DataQualityReport } from "../ingest/aggregate.ts";
import type { RejectedRow } from "../ingest/rows.ts";
import type { RejectsNotKept } from "../ingest/rejects.ts";
import { BUSY } from "../model/detector.ts";
import { ValidationException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { toAnomalyGroup } from "../incidents/contribution.ts";
import type { AnomalyGroup, AnomalyGroupRecord } from "../model/anomaly.ts";
import { arnAccount, metricSetKey, resourceKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { joinUri, templateInterval, templatePrefix, templateSpanMs } from "../model/path-template.ts";
import type { BlobStore } from "../store/blobs.ts";
import { checkSource, metricSetFiles } from "./data.ts";
import { failureReasonOf, groupKey, historyPrefixes } from "./detect.ts";
import { catalogOf, systemScope, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's backtest: the first 70% of the history teaches, the last 30% is scored and its groups kept. */
const BACKTEST_LEARN_SHARE = 0.7;

/** The back-test itself, loaded by the first: a detect invocation that runs none never loads it. */
const backTester = async () => (await import("../detect/backtest.ts")).backtest;
const backTestSlicer = async () => (await import("../detect/backtest.ts")).backtestSlices;

/** What stops back-tests between two slices, and what becomes of the one stopped: run again later ("wait"), or FAILED with `reason`. */
export interface BackTestStop {
  readonly signal: AbortSignal;
  readonly then: "wait" | "fail";
  readonly reason?: string;
}

/** A back-test stopped between two slices (a drain, or the end of the time it was given). */
export class BackTestInterrupted extends Error {
  override readonly name = "BackTestInterrupted";
  constructor(readonly metricSetArn: string) {
    super(`the back-test of ${metricSetArn} was stopped before it finished`);
  }
}

/** The spans a back-test learned from and scored (epoch ms, interval starts), for GetDataQualityMetrics' BACKTEST_* figures. */
export interface BackTestWindow {
  readonly MetricSetArn: string;
  readonly trainingStart: number;
  readonly trainingEnd: number;
  readonly inferenceStart: number;
  readonly inferenceEnd: number;
}
export const backTestWindowKey = (metricSet: Pick<MetricSet, "MetricSetArn">) => `${metricSetKey(metricSet.MetricSetArn)}/backtest`;

/** What a back-test reads: the metric set's history, or its continuous path without one (L4M's documented behaviour). */
export const backTestPrefixes = historyPrefixes;

/**
 * What a back-test found in one metric set's history, kept beside its results
 * (`backtest.json`), apart from the live groups: the period scored, each interval's highest
 * anomaly score, and the groups a live detector would have opened. While the detector is in
 * back-test, its group operations answer these groups (as L4M's did); once it is activated,
 * its live ones.
 */
export interface BacktestReport {
  readonly MetricSetArn: string;
  /** Epoch ms: the first interval scored, and the end of the last. */
  readonly from: number;
  readonly to: number;
  readonly intervalMs: number;
  readonly intervalsLearned: number;
  readonly intervalsScored: number;
  /** Intervals with an anomaly: [start (epoch ms), highest score]. */
  readonly peaks: readonly (readonly [number, number])[];
  readonly groups: readonly AnomalyGroupRecord[];
}

const reportUri = (services: Pick<Services, "resultsRoot">, metricSet: Pick<MetricSet, "MetricSetArn">) => joinUri(metricSetRoot(services.resultsRoot, metricSet), "backtest.json");

/** The back-test reports of the scope's detector, one per metric set that has one (GetBackTestReport). */
export async function backTestReports(services: Services, scope: Scope, detectorArn: string): Promise<{ metricSet: MetricSet; report: BacktestReport; groups: AnomalyGroup[] }[]> {
  const catalog = catalogOf(services, scope);
  await catalog.getDetector(detectorArn);
  const out: { metricSet: MetricSet; report: BacktestReport; groups: AnomalyGroup[] }[] = [];
  for (const metricSet of await catalog.listMetricSets(detectorArn)) {
    const report = await backTestReportOf(services, metricSet);
    if (report) out.push({ metricSet, report, groups: report.groups.map(toAnomalyGroup) });
  }
  return out;
}

export async function backTestReportOf(services: Pick<Services, "blobs" | "resultsRoot">, metricSet: Pick<MetricSet, "MetricSetArn">): Promise<BacktestReport | undefined> {
  const bytes = await services.blobs.get(reportUri(services, metricSet));
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as BacktestReport) : undefined;
}

/**
 * BackTestAnomalyDetector: asks for a back-test and answers at once; the work runs apart
 * (runBackTests, from the service loop or the detect function), and the detector's status
 * tells how far it is: BACK_TEST_ACTIVATING, BACK_TEST_ACTIVE, then BACK_TEST_COMPLETE, or
 * FAILED with the reason. A refused request (busy, no data path, files the tenant may not
 * read) changes nothing.
 */
export async function backTestDetector(services: Services, scope: Scope, detectorArn: string): Promise<void> {
  const catalog = catalogOf(services, scope);
  const detector = await catalog.getDetector(detectorArn);
  if (BUSY.has(detector.Status)) {
    throw new ValidationException(`Detector ${detector.AnomalyDetectorName} is ${detector.Status}: only a detector that is not detecting or back-testing can be back-tested`, { fields: [{ Name: "AnomalyDetectorArn", Message: `names a detector that is ${detector.Status}` }] });
  }
  for (const metricSet of await catalog.listMetricSets(detectorArn)) {
    if (!backTestPrefixes(readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet))).length) {
      throw new ValidationException(`Metric set ${metricSet.MetricSetName} names no data to back-test: give it a HistoricalDataPathList or a TemplatedPathList`, { fields: [{ Name: "AnomalyDetectorArn", Message: "names a detector whose metric set has no data path" }] });
    }
    // Checked while the caller is there: the work, apart, reads with the same grant.
    await checkSource(services, scope, metricSet.MetricSource);
  }
  await catalog.setDetectorStatus(detectorArn, "BACK_TEST_ACTIVATING");
  services.wake?.();
}

/**
 * Runs every back-test asked for (and any a stopped process left BACK_TEST_ACTIVE): each
 * metric set's history is read, the first 70 % teaches, what the rest raised is kept in its
 * report, with the spans in its data quality. Answers how many ran. The engine runs in
 * slices, and other work of the process goes on between them; `stop` stops it between two,
 * and no other back-test starts. A drain (`stop.then: "wait"`) leaves the detector
 * BACK_TEST_ACTIVE for the next start; the end of the time an invocation gives back-tests
 * (`"fail"`) fails it with the reason, since the next invocation would give it no longer.
 */
export async function runBackTests(services: Services, stop: BackTestStop = { signal: new AbortController().signal, then: "wait" }): Promise<number> {
  let ran = 0;
  for (const listed of await Catalog.allDetectors(services.records)) {
    if (stop.signal.aborted) return ran;
    if (listed.Status !== "BACK_TEST_ACTIVATING" && listed.Status !== "BACK_TEST_ACTIVE") continue;
    const arn = listed.AnomalyDetectorArn;
    // One runner at a time: another detect invocation, or process, running it leaves it be.
    const lease = backTestLease(arn);
    const claimedAt = services.linkClock();
    const until = claimedAt + BACK_TEST_LEASE_MS;
    if (!(await services.records.claim(lease, until, claimedAt))) continue;
    try {
      const outcome = await runDetectorBackTest(services, arn, stop);
      if (outcome !== "skipped") ran++;
      if (outcome === "stopped") return ran;
    } finally {
      await services.records.release(lease, until);
    }
  }
  return ran;
}

/** A held lease on a detector's back-test outlasts any one run of it (a detect invocation's 15 minutes). */
const BACK_TEST_LEASE_MS = 15 * 60_000;
const backTestLease = (arn: string) => `backtest/${resourceKey(arn)}`;

/**
 * The back-test leases a stopped process left held (a crash mid-back-test): released at the
 * start of the only process that runs back-tests (`vigil serve`, which holds its data
 * directory), so its back-tests run again at once, not once the leases run out. Answers how many.
 */
export async function releaseStaleBackTestLeases(services: Services): Promise<number> {
  let released = 0;
  for (const detector of await Catalog.allDetectors(services.records)) {
    if (detector.Status !== "BACK_TEST_ACTIVATING" && detector.Status !== "BACK_TEST_ACTIVE") continue;
    if (!(await services.records.get("leases", backTestLease(detector.AnomalyDetectorArn)))) continue;
    await services.records.delete("leases", backTestLease(detector.AnomalyDetectorArn));
    released++;
  }
  return released;
}

/**
 * One detector's back-test, its status moved only from where the back-test left it: one
 * a request changed meanwhile (deactivated, activated, deleted) is left as the request
 * left it, with no report. "skipped": it was no longer asked for; "stopped": `stop` came.
 */
async function runDetectorBackTest(services: Services, arn: string, stop: BackTestStop): Promise<"ran" | "skipped" | "stopped"> {
  const catalog = catalogOf(services, systemScope(services, arnAccount(arn)));
  if (!(await catalog.moveDetectorStatus(arn, ["BACK_TEST_ACTIVATING", "BACK_TEST_ACTIVE"], "BACK_TEST_ACTIVE"))) return "skipped";
  const stillAsked = async () => (await catalog.getDetector(arn).catch(() => undefined))?.Status === "BACK_TEST_ACTIVE";
  let sets: readonly MetricSet[] = [];
  try {
    sets = await catalog.listMetricSets(arn);
    for (const metricSet of sets) await backTestMetricSet(services, metricSet, stop.signal, stillAsked);
    await catalog.moveDetectorStatus(arn, ["BACK_TEST_ACTIVE"], "BACK_TEST_COMPLETE");
    return "ran";
  } catch (e) {
    if (e instanceof BackTestCalledOff) return "ran";
    if (e instanceof BackTestInterrupted && stop.then === "wait") return "stopped";
    if (!(e instanceof BackTestInterrupted)) services.observer.failed("back-test", e, { anomalyDetectorArn: arn });
    // The tenant reads the reason: the paths it may see shown, the server's hidden; the operator has the error whole (above).
    const shown = pathsShownFor(sets, services.dataRootsOf(arnAccount(arn)), services.resultsRoot);
    const reason = e instanceof BackTestInterrupted ? (stop.reason ?? e.message) : failureReasonOf(e, shown);
    await catalog.moveDetectorStatus(arn, ["BACK_TEST_ACTIVE"], "FAILED", { FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: reason });
    return e instanceof BackTestInterrupted ? "stopped" : "ran";
  }
}

/** A back-test whose detector a request changed while it ran: nothing more of it is written. */
class BackTestCalledOff extends Error {
  override readonly name = "BackTestCalledOff";
}

/** One metric set's back-test, reading its files as its tenant may (its data roots, or its role). */
async function backTestMetricSet(services: Services, metricSet: MetricSet, signal: AbortSignal, stillAsked: () => Promise<boolean>): Promise<void> {
  if (signal.aborted) throw new BackTestInterrupted(metricSet.MetricSetArn);
  const readable = readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet));
  const prefixes = backTestPrefixes(readable);
  const files = metricSetFiles(services, systemScope(services, arnAccount(metricSet.MetricSetArn)), metricSet);
  const data = await readAndAggregate(files, readable, prefixes);
  const starts = [...data.intervals.keys()].sort((a, b) => a - b);
  if (starts.length < 2) throw new ValidationException(`Metric set ${metricSet.MetricSetName} has no history to back-test under ${prefixes.join(", ")}`);
  const len = intervalMs(metricSet.MetricSetFrequency);
  const first = starts[0]!;
  const last = starts.at(-1)!;
  const from = first + Math.floor(((last - first) / len) * BACKTEST_LEARN_SHARE) * len;
  if (signal.aborted) throw new BackTestInterrupted(metricSet.MetricSetArn);
  const slices = (await backTestSlicer())(metricSet, data, { from });
  let slice = slices.next();
  while (!slice.done) {
    // A turn for the process's other work (detection, requests), which a back-test of many series would hold up for minutes.
    await services.timer.sleep(0, signal);
    if (signal.aborted) throw new BackTestInterrupted(metricSet.MetricSetArn);
    slice = slices.next();
  }
  // Its groups are kept in its report, apart from live ones; none for a detector a request changed meanwhile.
  const result = slice.value;
  if (!(await stillAsked())) throw new BackTestCalledOff();
  const peaks = new Map<number, number>();
  for (const a of result.anomalies) peaks.set(a.timestamp, Math.max(peaks.get(a.timestamp) ?? 0, a.score));
  const report: BacktestReport = { MetricSetArn: metricSet.MetricSetArn, from, to: last + len, intervalMs: len, intervalsLearned: result.intervalsLearned, intervalsScored: result.intervalsScored, peaks: [...peaks].sort((a, b) => a[0] - b[0]), groups: result.groups };
  await services.blobs.put(reportUri(services, metricSet), JSON.stringify(report));
  const window: BackTestWindow = { MetricSetArn: metricSet.MetricSetArn, trainingStart: first, trainingEnd: from - len, inferenceStart: from, inferenceEnd: last };
  await services.records.put("quality", backTestWindowKey(metricSet), window);
}

export interface BacktestRun extends BacktestResult {
  readonly metricSet: MetricSet;
  readonly quality: DataQualityReport;
  readonly rejects: RejectedRow[];
  readonly rejectsNotKept: RejectsNotKept[];
}

/**
 * `vigil backtest`: a metric set run over files (those named, or its own history and live
 * files), nothing kept. When its own history and live folder both hold an interval (L4M's
 * sample is laid out so), that interval's rows are read from the live files alone: each
 * row is counted once.
 */
export async function backtestFiles(blobs: BlobStore, metricSet: MetricSet, data: readonly string[], options: BacktestOptions): Promise<BacktestRun> {
  const s3 = metricSet.MetricSource.S3SourceConfig;
  const template = s3?.TemplatedPathList?.[0];
  const history = s3?.HistoricalDataPathList ?? [];
  const prefixes = data.length ? data : [...history, ...(template ? [templatePrefix(template)] : [])];
  const skip = !data.length && template && history.length ? await historyCoveredByLive(blobs, metricSet, template, history) : undefined;
  const aggregation = await readAndAggregate(blobs, metricSet, prefixes, skip ? { skip } : {});
  if (aggregation.quality.rowsRead === 0) throw new ValidationException(`no rows found under ${prefixes.join(", ")}`);
  const result = (await backTester())(metricSet, aggregation, options);
  return { ...result, metricSet, quality: aggregation.quality, rejects: aggregation.rejects, rejectsNotKept: aggregation.rejectsNotKept };
}

/** Skips a history file's rows of every interval the live folder has a file for. */
async function historyCoveredByLive(blobs: BlobStore, metricSet: MetricSet, template: string, history: readonly string[]): Promise<(file: string, intervalStart: number) => boolean> {
  const len = intervalMs(metricSet.MetricSetFrequency);
  const intervalOf = templateInterval(template, metricSet.Timezone ?? "UTC");
  const span = templateSpanMs(template, len);
  const live = new Set<number>();
  for (const file of await blobs.list(templatePrefix(template))) {
    const t = intervalOf(file);
    if (t === undefined) continue;
    for (let i = Math.floor(t / len) * len; i < t + span; i += len) live.add(i);
  }
  const fromHistory = (file: string) => history.some((h) => file === h || file.startsWith(h.endsWith("/") ? h : `${h}/`));
  return (file, intervalStart) => live.has(intervalStart) && fromHistory(file);
}
