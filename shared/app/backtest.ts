import { backtest, type BacktestOptions, type BacktestResult } from "../detect/backtest.ts";
import { readableOf, readAndAggregate, readHistory } from "../detect/read-files.ts";
import { metricSetRoot } from "../detect/results.ts";
import type { DataQualityReport } from "../ingest/aggregate.ts";
import type { RejectedRow } from "../ingest/rows.ts";
import { ValidationException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import type { MetricSet } from "../model/metric-set.ts";
import type { BlobStore } from "../store/blobs.ts";
import { metricSetFiles } from "./data.ts";
import { groupKey } from "./detect.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's backtest: the first 70% of the history teaches, the last 30% is scored and its groups kept. */
const BACKTEST_LEARN_SHARE = 0.7;

/**
 * BackTestAnomalyDetector: runs the detector's metric sets over their history and keeps the
 * groups found. Refused (no history, files it may not read), the detector keeps its status.
 */
export async function backTestDetector(services: Services, scope: Scope, detectorArn: string): Promise<void> {
  const catalog = catalogOf(services, scope);
  const before = (await catalog.getDetector(detectorArn)).Status;
  await catalog.setDetectorStatus(detectorArn, "BACK_TEST_ACTIVE");
  try {
    await backTestMetricSets(services, scope, detectorArn);
  } catch (e) {
    await catalog.setDetectorStatus(detectorArn, before);
    throw e;
  }
  await catalog.setDetectorStatus(detectorArn, "BACK_TEST_COMPLETE");
}

async function backTestMetricSets(services: Services, scope: Scope, detectorArn: string): Promise<void> {
  for (const metricSet of await catalogOf(services, scope).listMetricSets(detectorArn)) {
    const readable = readableOf(metricSet, metricSetRoot(services.resultsRoot, metricSet));
    const data = await readHistory(metricSetFiles(services, scope, metricSet), readable);
    const starts = [...data.intervals.keys()].sort((a, b) => a - b);
    if (starts.length < 2) throw new ValidationException(`Metric set ${metricSet.MetricSetName} has no history to back-test: give it a HistoricalDataPathList with data`);
    const len = intervalMs(metricSet.MetricSetFrequency);
    const from = starts[0]! + Math.floor(((starts.at(-1)! - starts[0]!) / len) * BACKTEST_LEARN_SHARE) * len;
    for (const g of backtest(metricSet, data, { from }).groups) await services.records.put("groups", groupKey(metricSet, g.AnomalyGroupId), g);
  }
}

export interface BacktestRun extends BacktestResult {
  readonly metricSet: MetricSet;
  readonly quality: DataQualityReport;
  readonly rejects: RejectedRow[];
}

/** Where a metric set's files are when no others are named: its history and the fixed part of its template. */
export function sourcePrefixes(metricSet: MetricSet): string[] {
  const s3 = metricSet.MetricSource.S3SourceConfig;
  const template = s3?.TemplatedPathList?.[0];
  return [...(s3?.HistoricalDataPathList ?? []), ...(template ? [template.slice(0, template.search(/\{\{|$/))] : [])];
}

/** `vigil backtest`: a metric set run over files (its own, or those named), nothing kept. */
export async function backtestFiles(blobs: BlobStore, metricSet: MetricSet, data: readonly string[], options: BacktestOptions): Promise<BacktestRun> {
  const prefixes = data.length ? data : sourcePrefixes(metricSet);
  const aggregation = await readAndAggregate(blobs, metricSet, prefixes);
  if (aggregation.quality.rowsRead === 0) throw new ValidationException(`no rows found under ${prefixes.join(", ")}`);
  const result = backtest(metricSet, aggregation, options);
  return { ...result, metricSet, quality: aggregation.quality, rejects: aggregation.rejects };
}
