#!/usr/bin/env node
// A reference beside the product's path, not a path of the product: the bench folder's rolling
// z-score (nab/baseline-zscore.mjs) given what the bench folder's runner gives Vigil, each
// series averaged into the L4M frequency nearest its step (minute data at PT5M), over the same
// 100 minutes of history that its window of 100 values spans at a minute's step. An interval's
// score is put on its last row (causal), 0 elsewhere, as product-detector.mjs puts a severity.
// So it tells what the plain rolling z-score finds once minute bursts are averaged into five
// minutes. env BENCH_DIR: the bench folder. stdin: `timestamp,value` rows; stdout: one score per row.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const FREQUENCIES = { PT5M: 300e3, PT10M: 600e3, PT1H: 3600e3, P1D: 86400e3 };
const WINDOW_MS = 100 * 60e3;

const lines = readFileSync(0, "utf8").split(/\r?\n/).filter((l) => l.trim() !== "");
const rows = lines.slice(1).map((l) => {
  const c = l.lastIndexOf(",");
  return { t: Date.parse(l.slice(0, c).trim().replace(" ", "T") + "Z"), v: Number(l.slice(c + 1)) };
});
const steps = rows.slice(1).map((r, i) => r.t - rows[i].t).filter((d) => d > 0).sort((a, b) => a - b);
const median = steps[Math.floor(steps.length / 2)] ?? 3600e3;
const distance = (f) => Math.abs(Math.log(FREQUENCIES[f] / median));
const len = FREQUENCIES[Object.keys(FREQUENCIES).reduce((best, f) => (distance(f) < distance(best) ? f : best))];

// Each interval's mean, and the last row that falls in it.
const intervals = new Map();
rows.forEach((r, i) => {
  if (!Number.isFinite(r.v)) return;
  const start = Math.floor(r.t / len) * len;
  const at = intervals.get(start) ?? { sum: 0, n: 0, last: i };
  intervals.set(start, { sum: at.sum + r.v, n: at.n + 1, last: i });
});
const ordered = [...intervals.keys()].sort((a, b) => a - b).map((start) => intervals.get(start));
const window = Math.max(2, Math.round(WINDOW_MS / len));
const input = ordered.map((x, i) => `${i},${x.sum / x.n}`).join("\n") + "\n";
const scores = execFileSync(process.execPath, [join(process.env.BENCH_DIR, "nab/baseline-zscore.mjs"), "--window", String(window)], { input, encoding: "utf8", maxBuffer: 1 << 28 })
  .split("\n")
  .filter((l) => l !== "")
  .map(Number);
const out = new Array(rows.length).fill(0);
ordered.forEach((x, i) => { out[x.last] = scores[i] ?? 0; });
process.stdout.write(out.map((x) => x.toFixed(6)).join("\n") + "\n");
