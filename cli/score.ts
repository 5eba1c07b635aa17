import { StreamScorer } from "../shared/engine/stream.ts";
import { makeTimestampParser } from "../shared/ingest/timestamp.ts";
import { ValidationException } from "../shared/model/errors.ts";

/**
 * `vigil score`: CSV `timestamp,value` (header first, oldest first) in, one anomaly score
 * in [0, 1] per data row out, in order (engine/stream.ts). Causal: row i is scored before it
 * is learned, and the interval is the median spacing of the first timestamps only
 * (INTERVAL_ROWS), before any row is scored.
 */
export function scoreCsv(text: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) throw new ValidationException("no input: expected CSV 'timestamp,value' with a header line");
  const parse = makeTimestampParser(undefined, "UTC");
  const body = lines.slice(1).map((line, i) => {
    const comma = line.lastIndexOf(",");
    if (comma < 0) throw new ValidationException(`line ${i + 2}: expected 'timestamp,value', got '${line.slice(0, 80)}'`, { reason: "CANNOT_PARSE" });
    const t = parse(line.slice(0, comma).trim().replace(/^"|"$/g, ""));
    if (t === undefined) throw new ValidationException(`line ${i + 2}: '${line.slice(0, comma)}' is not a timestamp`, { reason: "CANNOT_PARSE" });
    const cell = line.slice(comma + 1).trim();
    return { t, x: cell === "" ? NaN : Number(cell) };
  });
  const stream = new StreamScorer(inferInterval(body.slice(0, INTERVAL_ROWS).map((r) => r.t)));
  return body.map(({ t, x }) => stream.next(t, x).toFixed(6));
}

/** Rows read to infer the interval: fewer than any layout's warm-up (layout.ts). */
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
