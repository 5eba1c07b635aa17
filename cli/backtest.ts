import { open } from "node:fs/promises";
import { DEFAULT_LIMITS } from "../shared/api/http-server.ts";
import type { BacktestRun } from "../shared/app/backtest.ts";
import { ValidationException } from "../shared/model/errors.ts";
import { anomalyDetectorArn, LOCAL_ARN_SCOPE, metricSetArn, arnResourceName } from "../shared/model/ids.ts";
import { CreateMetricSetRequest, type MetricSet } from "../shared/model/metric-set.ts";
import { parseOrThrow } from "../shared/model/validate.ts";

/** The most a metric set file may hold: what the API takes as a CreateMetricSet request (which is a few kB). */
export const METRIC_SET_FILE_BYTES = DEFAULT_LIMITS.maxBodyBytes;

/** A file's text, read up to `max` bytes: a larger one (or a device that never ends) is refused, not taken into memory whole. */
async function readAtMost(path: string, max: number): Promise<string> {
  const handle = await open(path);
  try {
    const bytes = Buffer.alloc(max + 1);
    let at = 0;
    while (at < bytes.byteLength) {
      const { bytesRead } = await handle.read(bytes, at, bytes.byteLength - at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    if (at > max) throw new Error(`it holds more than ${max} bytes, which no metric set does`);
    return bytes.toString("utf8", 0, at);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a CreateMetricSet JSON (its AnomalyDetectorArn may be left out), so that a file
 * written for L4M works as it is.
 */
export async function loadMetricSetFile(path: string): Promise<MetricSet> {
  let json: unknown;
  try {
    json = JSON.parse(await readAtMost(path, METRIC_SET_FILE_BYTES));
  } catch (e) {
    throw new ValidationException(`cannot read metric set ${path}: ${e instanceof Error ? e.message : String(e)}`, { reason: "CANNOT_PARSE" });
  }
  const input = { AnomalyDetectorArn: anomalyDetectorArn(LOCAL_ARN_SCOPE, "backtest"), ...(json as object) };
  const req = parseOrThrow(CreateMetricSetRequest, input, `metric set ${path}`);
  if (!req.MetricSetFrequency) {
    throw new ValidationException(`metric set ${path} has no MetricSetFrequency`, { fields: [{ Name: "MetricSetFrequency", Message: "is required for a backtest: PT1M, PT5M, PT10M, PT1H or P1D" }] });
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

/** Rows shown on the terminal when no --out keeps them all. */
export const REJECTS_SHOWN = 10;

/**
 * The rejected and partial rows, each with its file, line and reason, as `vigil backtest`
 * says them when it writes no rejects file: the first REJECTS_SHOWN, then how many more and
 * how to keep every one.
 */
export function rejectLines(run: Pick<BacktestRun, "rejects" | "rejectsNotKept">): string[] {
  const lines = run.rejects.slice(0, REJECTS_SHOWN).map((r) => `${r.file}:${r.line}: ${r.partial ? "partial, " : ""}${r.reason}: ${r.detail}`);
  const more = run.rejects.length - lines.length + run.rejectsNotKept.reduce((n, r) => n + r.notKept, 0);
  if (more > 0) lines.push(`… and ${more} more: --out <file> keeps every one, with its row, in <file>.rejects.jsonl`);
  return lines;
}
