import { backtest } from "../shared/detect/backtest.ts";
import type { IntervalCells } from "../shared/ingest/aggregate.ts";
import { makeTimestampParser } from "../shared/ingest/timestamp.ts";
import { ValidationException } from "../shared/model/errors.ts";
import { FREQUENCIES, intervalMs, type Frequency } from "../shared/model/frequency.ts";
import { anomalyDetectorArn, LOCAL_ARN_SCOPE, metricSetArn } from "../shared/model/ids.ts";

/**
 * The most `vigil score` reads of its input: one series is held whole, as text and as rows,
 * so past this (about eight million rows) it is refused at once rather than read until Node
 * cannot make it a string (at 512 MiB) or the machine's memory runs out.
 */
export const SCORE_INPUT_BYTES = 256 * 1024 * 1024;

/** The text of `input`, read up to `max` bytes: more (or a stream that never ends) is refused with what was read. */
export async function readInput(input: AsyncIterable<Uint8Array>, max = SCORE_INPUT_BYTES): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of input) {
    size += chunk.byteLength;
    if (size > max) throw new ValidationException(`the input holds more than ${max} bytes (${max / 1024 / 1024} MiB), more than vigil score reads of one series: score a shorter span, or run the series as a metric set (vigil backtest reads its files as streams)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * `vigil score`: CSV `timestamp,value` (oldest first, a header line or none) in, one score in [0, 1]
 * per data row out, in order. It is the product's engine, not a second one: the rows become
 * a one-series metric set (measure `value`, AVG) at the data's own step, run as a backtest;
 * a row's score is the severity / 100 of an anomaly group at the row that closes the group's
 * first interval, where an alert fires, and 0 elsewhere. Causal: the step is the median
 * spacing of the first timestamps only (INTERVAL_ROWS), and every interval is scored before
 * it is learned.
 */
export function scoreCsv(text: string): string[] {
  const rows = readRows(text);
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

/** A decimal number as CSV writes one (no hex, no Infinity, no NaN). */
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * The data rows of `text`, each a time and a value (the first line is a header when its
 * value is a name, not a number). Every row must be used as written, so
 * nothing is skipped: a row without a comma, a timestamp that does not parse, a value that
 * is not a finite number, or a time before the previous row's is refused with its line and
 * data row numbers. An empty value is a missing one (the interval waits for the next).
 */
export function readRows(text: string): { t: number; x: number }[] {
  const lines = text.split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== "");
  if (first < 0) throw new ValidationException("no input: expected CSV 'timestamp,value'");
  const parse = makeTimestampParser(undefined, "UTC");
  // The first line is a header when its value is a name (neither a number nor empty); else it is a row of input without one, read as every row is (a time that does not parse refused).
  const start = isName(valueOf(lines[first]!)) ? first + 1 : first;
  const rows: { t: number; x: number }[] = [];
  for (let n = start; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === "") continue;
    const where = `line ${n + 1} (data row ${rows.length + 1})`;
    const refuse = (why: string) => new ValidationException(`${where}: ${why}`, { reason: "CANNOT_PARSE" });
    const comma = line.lastIndexOf(",");
    if (comma < 0) throw refuse(`expected 'timestamp,value', got '${line.slice(0, 80)}'`);
    const stamp = stampOf(line);
    const t = parse(stamp);
    if (t === undefined) throw refuse(`'${stamp.slice(0, 80)}' is not a timestamp`);
    const cell = valueOf(line);
    const x = cell === "" ? NaN : NUMBER.test(cell) ? Number(cell) : undefined;
    if (x === undefined || x === Infinity || x === -Infinity) throw refuse(`value '${cell.slice(0, 80)}' is not a number`);
    const previous = rows[rows.length - 1];
    if (previous && t < previous.t) throw refuse(`${new Date(t).toISOString()} comes before the previous row's ${new Date(previous.t).toISOString()}: rows must be oldest first`);
    rows.push({ t, x });
  }
  return rows;
}

/** The time cell of a line: what comes before its last comma, unquoted. */
const stampOf = (line: string) => line.slice(0, Math.max(0, line.lastIndexOf(","))).trim().replace(/^"|"$/g, "");
/** The value cell of a line: what comes after its last comma (the whole line without one), unquoted. */
const valueOf = (line: string) => line.slice(line.lastIndexOf(",") + 1).trim().replace(/^"|"$/g, "");
/** A header's value cell: a name, not a number and not empty. */
const isName = (cell: string) => cell !== "" && !NUMBER.test(cell) && !/^[+-]?(Infinity|NaN)$/.test(cell);

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
