import { readFile } from "node:fs/promises";
import { backtest, type BacktestOptions, type BacktestResult } from "../shared/detect/backtest.ts";
import { readAndAggregate } from "../shared/detect/read-files.ts";
import type { DataQualityReport } from "../shared/ingest/aggregate.ts";
import type { RejectedRow } from "../shared/ingest/rows.ts";
import { ValidationException } from "../shared/model/errors.ts";
import { anomalyDetectorArn, LOCAL_ARN_SCOPE, metricSetArn, arnResourceName } from "../shared/model/ids.ts";
import { CreateMetricSetRequest, type MetricSet } from "../shared/model/metric-set.ts";
import { parseOrThrow } from "../shared/model/validate.ts";
import type { BlobStore } from "../shared/store/blobs.ts";

export interface BacktestRun extends BacktestResult {
  readonly metricSet: MetricSet;
  readonly quality: DataQualityReport;
  readonly rejects: RejectedRow[];
}

/**
 * Reads a CreateMetricSet JSON (its AnomalyDetectorArn may be left out), so that a file
 * written for L4M works as it is.
 */
export async function loadMetricSetFile(path: string): Promise<MetricSet> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new ValidationException(`cannot read metric set ${path}: ${e instanceof Error ? e.message : String(e)}`, { reason: "CANNOT_PARSE" });
  }
  const input = { AnomalyDetectorArn: anomalyDetectorArn(LOCAL_ARN_SCOPE, "backtest"), ...(json as object) };
  const req = parseOrThrow(CreateMetricSetRequest, input, `metric set ${path}`);
  if (!req.MetricSetFrequency) {
    throw new ValidationException(`metric set ${path} has no MetricSetFrequency`, { fields: [{ Name: "MetricSetFrequency", Message: "is required for a backtest: PT5M, PT10M, PT1H or P1D" }] });
  }
  const now = new Date(0).toISOString();
  return {
    ...req,
    AnomalyDetectorArn: req.AnomalyDetectorArn as MetricSet["AnomalyDetectorArn"],
    MetricSetArn: metricSetArn(LOCAL_ARN_SCOPE, arnResourceName(req.AnomalyDetectorArn), req.MetricSetName),
    MetricSetFrequency: req.MetricSetFrequency,
    Timezone: req.Timezone ?? "UTC",
    CreationTime: now,
    LastModificationTime: now,
  };
}

/** Where a metric set's files are when no --data is given: its history and the fixed part of its template. */
export function sourcePrefixes(metricSet: MetricSet): string[] {
  const s3 = metricSet.MetricSource.S3SourceConfig;
  const template = s3?.TemplatedPathList?.[0];
  return [...(s3?.HistoricalDataPathList ?? []), ...(template ? [template.slice(0, template.search(/\{\{|$/))] : [])];
}

export async function runBacktest(blobs: BlobStore, metricSet: MetricSet, data: readonly string[], options: BacktestOptions): Promise<BacktestRun> {
  const aggregation = await readAndAggregate(blobs, metricSet, data.length ? data : sourcePrefixes(metricSet));
  if (aggregation.quality.rowsRead === 0) throw new ValidationException(`no rows found under ${(data.length ? data : sourcePrefixes(metricSet)).join(", ")}`);
  const result = backtest(metricSet, aggregation, options);
  return { ...result, metricSet, quality: aggregation.quality, rejects: aggregation.rejects };
}

/** One record per anomalous series-interval, the shape `bench/ecommerce` and users read. */
export function anomalyRecords(run: BacktestRun): Record<string, unknown>[] {
  return run.anomalies.map((a) => ({
    timestamp: new Date(a.timestamp).toISOString(),
    measure: a.measure,
    dimensions: a.dimensions,
    score: a.score,
    expected: round(a.expected),
    actual: a.actual,
    lower: round(a.lower),
    upper: round(a.upper),
    direction: a.direction,
    timeSeriesId: a.timeSeriesId,
    anomalyGroupId: a.anomalyGroupId,
  }));
}

const round = (x: number) => Math.round(x * 1000) / 1000;
