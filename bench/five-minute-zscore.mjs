#!/usr/bin/env node
// A reference beside the product's path, not a path of the product: the bench folder's rolling
// z-score (nab/baseline-zscore.mjs) given what the bench folder's product-detector.mjs gives
// Vigil, each series averaged into the L4M frequency nearest its step (minute data at PT5M),
// with 100 minutes of history: the minutes its window of 100 values spans at a minute's step
// (20 intervals at PT5M, for five-minute series too). An interval's score is put on its last
// row (causal), 0 elsewhere, as product-detector.mjs puts a severity. So it tells what the
// plain rolling z-score finds once minute bursts are averaged into five minutes.
// env BENCH_DIR: the bench folder. stdin: `timestamp,value` rows; stdout: one score per row.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { lastRowOf, nearestFrequency, readLines, rowsOf } from "./series-input.mjs";

const FREQUENCIES = { PT5M: 300e3, PT10M: 600e3, PT1H: 3600e3, P1D: 86400e3 };
const WINDOW_MS = 100 * 60e3;

const bench = process.env.BENCH_DIR;
if (!bench) { console.error("set BENCH_DIR to the bench folder (it holds nab/baseline-zscore.mjs)"); process.exit(2); }
const rows = rowsOf(readLines());
const len = FREQUENCIES[nearestFrequency(rows, FREQUENCIES)];

// Each interval's mean over the values it has; an interval with none is not given to the z-score.
const sums = new Map();
for (const { t, v } of rows) {
  if (!Number.isFinite(t) || !Number.isFinite(v)) continue;
  const start = Math.floor(t / len) * len;
  const at = sums.get(start) ?? { sum: 0, n: 0 };
  sums.set(start, { sum: at.sum + v, n: at.n + 1 });
}
const starts = [...sums.keys()].sort((a, b) => a - b);
const window = Math.max(2, Math.round(WINDOW_MS / len));
// A header first: baseline-zscore.mjs takes a first line whose value is not finite for one.
const input = ["timestamp,value", ...starts.map((start) => `${start},${sums.get(start).sum / sums.get(start).n}`)].join("\n") + "\n";
const scores = execFileSync(process.execPath, [join(bench, "nab/baseline-zscore.mjs"), "--window", String(window)], { input, encoding: "utf8", maxBuffer: 1 << 28 })
  .split("\n")
  .filter((l) => l !== "")
  .map(Number);
if (scores.length !== starts.length) throw new Error(`baseline-zscore.mjs scored ${scores.length} intervals of ${starts.length}`);

const last = lastRowOf(rows, len);
const out = new Array(rows.length).fill(0);
starts.forEach((start, i) => { out[last.get(start)] = scores[i]; });
process.stdout.write(out.map((x) => x.toFixed(6)).join("\n") + "\n");
