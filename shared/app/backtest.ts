import { Catalog } from "../catalog/catalog.ts";
import type { BacktestOptions, BacktestResult } from "../detect/backtest.ts";
import { readableOf, readAndAggregate } from "../detect/read-files.ts";
import { metricSetRoot } from "../detect/results.ts";
import type { DataQualityReport } from "../ingest/aggregate.ts";
import type { RejectedRow } from "../ingest/rows.ts";
import type { RejectsNotKept } from "../ingest/rejects.ts";
import { BUSY } from "../model/detector.ts";
import { ValidationException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { toAnomalyGroup } from "../incidents/contribution.ts";
import type { AnomalyGroup, AnomalyGroupRecord } from "../model/anomaly.ts";
import { metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { joinUri, templateInterval, templatePrefix, templateSpanMs } from "../model/path-template.ts";
import { templateZone } from "../model/interval-time.ts";
import type { BlobStore } from "../store/blobs.ts";
import { checkSource } from "./data.ts";
import { historyPrefixes } from "./detect.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** The back-test itself, loaded by the first: a detect invocation that runs none never loads it. */
const backTester = async () => (await import("../detect/backtest.ts")).backtest;

/** What stops back-tests (as a history is read, or between two slices), and what becomes of the one stopped: run again later ("wait"), or FAILED with `reason`. */
export interface BackTestStop {
  readonly signal: AbortSignal;
  readonly then: "wait" | "fail";
  readonly reason?: string;
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

export const reportUri = (services: Pick<Services, "resultsRoot">, metricSet: Pick<MetricSet, "MetricSetArn">) => joinUri(metricSetRoot(services.resultsRoot, metricSet), "backtest.json");

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

/** Whether any detector has a back-test to run (asked for, or left BACK_TEST_ACTIVE by a stopped process): the detect function loads the runner (backtest-run.ts) only then. */
export async function backTestsAsked(services: Pick<Services, "records">): Promise<boolean> {
  return (await Catalog.allDetectors(services.records)).some((d) => BACK_TESTING.has(d.Status));
}

/** A detector in these statuses has a back-test to run. */
export const BACK_TESTING: ReadonlySet<string> = new Set(["BACK_TEST_ACTIVATING", "BACK_TEST_ACTIVE"]);

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
  const { files, rowsRead } = aggregation.quality;
  if (rowsRead === 0) throw new ValidationException(files ? `no rows found in the ${files} file(s) under ${prefixes.join(", ")}` : `no file found under ${prefixes.join(", ")}`);
  const result = (await backTester())(metricSet, aggregation, options);
  return { ...result, metricSet, quality: aggregation.quality, rejects: aggregation.rejects, rejectsNotKept: aggregation.rejectsNotKept };
}

/** Skips a history file's rows of every interval the live folder has a file for. */
async function historyCoveredByLive(blobs: BlobStore, metricSet: MetricSet, template: string, history: readonly string[]): Promise<(file: string, intervalStart: number) => boolean> {
  const len = intervalMs(metricSet.MetricSetFrequency);
  const intervalOf = templateInterval(template, templateZone(metricSet));
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
