#!/usr/bin/env node
// The product's path at the data's own step, as a detector for the handed runners (kpi/run.mjs,
// nab/run-detector.mjs): the bench folder's product-detector.mjs picks the L4M frequency nearest
// a series' median step, which sends minute data at PT5M; this one picks from Vigil's
// frequencies, PT1M included. Otherwise the same path: each series a one-series metric set
// (measure `value`, AVG) given to `vigil backtest`, scored from the runner's warm-up on, and
// severity / 100 only at the first interval of each anomaly group, where an alert fires, on the
// last row of that interval (causal). stdin: `timestamp,value` rows; stdout: one score per row.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { lastRowOf, nearestFrequency, readLines, rowsOf } from "./series-input.mjs";

const FREQUENCIES = { PT1M: 60e3, PT5M: 300e3, PT10M: 600e3, PT1H: 3600e3, P1D: 86400e3 };
const cli = resolve(import.meta.dirname, "../bin/vigil.mjs");

const lines = readLines();
const rows = rowsOf(lines);
const frequency = nearestFrequency(rows, FREQUENCIES);
const len = FREQUENCIES[frequency];

const dir = mkdtempSync(join(tmpdir(), "vigil-own-step-"));
try {
  writeFileSync(join(dir, "data.csv"), lines.join("\n") + "\n");
  const metricSet = {
    MetricSetName: "series",
    MetricSetFrequency: frequency,
    MetricList: [{ MetricName: "value", AggregationFunction: "AVG" }],
    TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
    Timezone: "UTC",
    MetricSource: { S3SourceConfig: { HistoricalDataPathList: [dir + "/"], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } },
  };
  writeFileSync(join(dir, "metric-set.json"), JSON.stringify(metricSet));
  const warm = Number(process.env.NAB_PROBATIONARY_ROWS ?? process.env.KPI_WARMUP_ROWS ?? 0);
  const args = [cli, "backtest", "--metric-set", join(dir, "metric-set.json"), "--data", join(dir, "data.csv"), "--out", join(dir, "anomalies.jsonl")];
  if (warm > 0 && warm < rows.length) args.push("--from", new Date(rows[warm].t).toISOString());
  execFileSync(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
  const onsets = new Map();
  const groups = new Set();
  for (const line of readFileSync(join(dir, "anomalies.jsonl"), "utf8").split("\n")) {
    if (!line.trim()) continue;
    const anomaly = JSON.parse(line);
    if (groups.has(anomaly.anomalyGroupId)) continue;
    groups.add(anomaly.anomalyGroupId);
    onsets.set(Date.parse(anomaly.timestamp), anomaly.score);
  }
  const scores = new Array(rows.length).fill(0);
  for (const [start, i] of lastRowOf(rows, len)) if (onsets.has(start)) scores[i] = Math.max(0, Math.min(1, onsets.get(start) / 100));
  process.stdout.write(scores.map((s) => s.toFixed(6)).join("\n") + "\n");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
