import { backtest } from "../shared/detect/backtest.ts";
import type { IntervalCells } from "../shared/ingest/aggregate.ts";
import { makeTimestampParser } from "../shared/ingest/timestamp.ts";
import { ValidationException } from "../shared/model/errors.ts";
import { FREQUENCIES, intervalMs, type Frequency } from "../shared/model/frequency.ts";
import { anomalyDetectorArn, LOCAL_ARN_SCOPE, metricSetArn } from "../shared/model/ids.ts";

/**
 * `vigil score`: CSV `timestamp,value` (header first, oldest first) in, one score in [0, 1]
 * per data row out, in order. It is the product's engine, not a second one: the rows become
 * a one-series metric set (measure `value`, AVG) at the data's own step, run as a backtest;
 * a row's score is the severity / 100 of an anomaly group at the row that closes the group's
 * first interval, where an alert fires, and 0 elsewhere. Causal: the step is the median
 * spacing of the first timestamps only (INTERVAL_ROWS), and every interval is scored before
 * it is learned.
 */
export function scoreCsv(text: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) throw new ValidationException("no input: expected CSV 'timestamp,value' with a header line");
  const parse = makeTimestampParser(undefined, "UTC");
  const rows = lines.slice(1).map((line, i) => {
    const comma = line.lastIndexOf(",");
    if (comma < 0) throw new ValidationException(`line ${i + 2}: expected 'timestamp,value', got '${line.slice(0, 80)}'`, { reason: "CANNOT_PARSE" });
    const t = parse(line.slice(0, comma).trim().replace(/^"|"$/g, ""));
    if (t === undefined) throw new ValidationException(`line ${i + 2}: '${line.slice(0, comma)}' is not a timestamp`, { reason: "CANNOT_PARSE" });
    const cell = line.slice(comma + 1).trim();
    return { t, x: cell === "" ? NaN : Number(cell) };
  });
  const step = inferInterval(rows.slice(0, INTERVAL_ROWS).map((r) => r.t));
  const bucket = (t: number) => Math.floor(t / step) * step;

  const intervals = new Map<number, IntervalCells>();
  const lastRow = new Map<number, number>();
  rows.forEach(({ t, x }, i) => {
    const start = bucket(t);
    lastRow.set(start, i);
    if (!Number.isFinite(x)) return;
    const cells = intervals.get(start) ?? intervals.set(start, new Map()).get(start)!;
    const cell = cells.get("") ?? cells.set("", { dimensions: [], sums: [0], counts: [0] }).get("")!;
    cell.sums[0]! += x;
    cell.counts[0]! += 1;
  });
  const metricSet = {
    MetricSetArn: metricSetArn(LOCAL_ARN_SCOPE, "score", "stdin"),
    AnomalyDetectorArn: anomalyDetectorArn(LOCAL_ARN_SCOPE, "score"),
    MetricList: [{ MetricName: "value", AggregationFunction: "AVG" as const }],
    DimensionList: [],
    MetricSetFrequency: frequencyOf(step) ?? "PT1H",
  };
  const run = backtest(metricSet, { intervals }, { intervalMs: step });

  const scores = new Float64Array(rows.length);
  const told = new Set<string>();
  for (const a of run.anomalies) {
    if (told.has(a.anomalyGroupId)) continue;
    told.add(a.anomalyGroupId);
    const row = lastRow.get(a.timestamp);
    if (row !== undefined) scores[row] = Math.min(1, a.score / 100);
  }
  return Array.from(scores, (s) => s.toFixed(6));
}

/** Rows read to infer the step: fewer than any layout's warm-up (engine/layout.ts). */
export const INTERVAL_ROWS = 13;

/** Median positive spacing of the timestamps; an hour when there is none. */
export function inferInterval(times: readonly number[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const d = times[i]! - times[i - 1]!;
    if (d > 0) gaps.push(d);
  }
  if (gaps.length === 0) return 3_600_000;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

/** The metric set frequency of a step, when it is one. */
const frequencyOf = (step: number): Frequency | undefined => FREQUENCIES.find((f) => intervalMs(f) === step);
