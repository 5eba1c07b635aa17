// What the bench's detectors for the handed runners (kpi/run.mjs, nab/run-detector.mjs) read
// alike: stdin's `timestamp,value` rows, the frequency nearest their median step as the
// bench folder's product-detector.mjs picks it, and the last row of each interval, where a
// causal score goes.
import { readFileSync } from "node:fs";

/** The lines of stdin that are not blank, the header first. */
export const readLines = () => readFileSync(0, "utf8").split(/\r?\n/).filter((l) => l.trim() !== "");

/** Each row's time (ms; NaN where it does not parse) and value (NaN where blank or not a number). */
export function rowsOf(lines) {
  return lines.slice(1).map((l) => {
    const c = l.lastIndexOf(",");
    const cell = l.slice(c + 1).trim();
    return { t: Date.parse(l.slice(0, c).trim().replace(" ", "T") + "Z"), v: cell === "" ? NaN : Number(cell) };
  });
}

/** The frequency of `table` (name → ms) nearest the rows' median step, in log ratio; the first on a tie. */
export function nearestFrequency(rows, table) {
  const steps = rows.slice(1).map((r, i) => r.t - rows[i].t).filter((d) => d > 0).sort((a, b) => a - b);
  const median = steps[Math.floor(steps.length / 2)] ?? 3600e3;
  const distance = (f) => Math.abs(Math.log(table[f] / median));
  return Object.keys(table).reduce((best, f) => (distance(f) < distance(best) ? f : best));
}

/** Each interval's start (ms) → the index of its last row. */
export function lastRowOf(rows, len) {
  const last = new Map();
  rows.forEach((r, i) => { if (Number.isFinite(r.t)) last.set(Math.floor(r.t / len) * len, i); });
  return last;
}
