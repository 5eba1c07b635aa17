import type { MetricSet } from "../model/metric-set.ts";
import type { CanonicalRow } from "./canonical.ts";
import type { RawRow } from "./readers.ts";
import { classifyRow, rowSpecOf, type RejectedRow } from "./rows.ts";
import { intervalClock } from "../model/interval-time.ts";
import { LONE_SURROGATE } from "../model/ids.ts";
import { makeTimestampParser } from "./timestamp.ts";

/**
 * Rows pushed over HTTP (`PutMetricRows`) to a metric set with an HttpPushConfig source:
 * each row is an object named by the metric set's own columns, as a JSON Lines file would
 * hold it. Rows are validated as file rows are; the good ones are filed under their
 * interval, the others returned with their reason, and both are kept.
 */
/** An accepted row, with its line (index + 1) in the request. */
export type PushedRow = CanonicalRow & { readonly line: number };

export interface PushedRows {
  /** Interval start (epoch ms) → accepted rows. */
  readonly intervals: Map<number, PushedRow[]>;
  readonly rejects: RejectedRow[];
}

export function classifyPushedRows(metricSet: MetricSet, rows: readonly unknown[], intervalMs: number, source: string): PushedRows {
  // A row keeps its instant in the canonical file, which is read again in interval time (rowTimeParser), and is filed under its interval.
  const spec = rowSpecOf(metricSet, makeTimestampParser(metricSet.TimestampColumn?.ColumnFormat, metricSet.Timezone ?? "UTC"));
  const clock = intervalClock(metricSet);
  const measures = metricSet.MetricList.map((m) => m.MetricName);
  const intervals: PushedRows["intervals"] = new Map();
  const rejects: RejectedRow[] = [];
  rows.forEach((row, i) => {
    const line = i + 1;
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      rejects.push({ file: source, line, reason: "MALFORMED_RECORD", detail: "a row must be a JSON object of column → value", partial: false, row: JSON.stringify(row) ?? String(row) });
      return;
    }
    const raw: RawRow = { file: source, line, fields: row as Record<string, unknown> };
    const verdict = classifyRow(raw, spec);
    if (!verdict.ok) return void rejects.push(verdict.rejected);
    // The interval's file is UTF-8, which writes a lone surrogate as U+FFFD: "de\ud800" would be read back as "de\ufffd", another series.
    const unpaired = spec.dimensions.find((_, k) => LONE_SURROGATE.test(verdict.dimensions[k]!));
    if (unpaired !== undefined) return void rejects.push({ file: source, line, reason: "MALFORMED_RECORD", detail: `dimension '${unpaired}' holds a lone surrogate (U+D800–U+DFFF unpaired), which no UTF-8 file can keep`, partial: false, row: raw.fields });
    rejects.push(...verdict.problems);
    const values: Record<string, number> = {};
    verdict.values.forEach((v, m) => v !== undefined && (values[measures[m]!] = v));
    const start = Math.floor(clock(verdict.timestamp) / intervalMs) * intervalMs;
    (intervals.get(start) ?? intervals.set(start, []).get(start)!).push({ timestamp: verdict.timestamp, dimensions: verdict.dimensions, values, line });
  });
  return { intervals, rejects };
}
