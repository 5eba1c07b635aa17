import type { Metric } from "../model/metric-set.ts";
import type { MalformedRecord, RawRow } from "./readers.ts";
import { REJECT_REASONS, classifyRow, type RejectReason, type RejectedRow, type RowSpec } from "./rows.ts";

/** Key of one dimension combination: its values joined by a separator no CSV cell holds. */
export const SERIES_KEY_SEPARATOR = "\u001f";
export const seriesKeyOf = (dimensions: readonly string[]) => dimensions.join(SERIES_KEY_SEPARATOR);

/** One dimension combination's raw sums within one interval, per measure (metric set order). */
export interface SeriesCell {
  readonly dimensions: readonly string[];
  readonly sums: number[];
  readonly counts: number[];
}

/** All series of one interval, by series key. */
export type IntervalCells = Map<string, SeriesCell>;

/** L4M's data quality figures for one interval (or one backtest's history). */
export interface DataQualityReport {
  files: number;
  rowsRead: number;
  rowsAccepted: number;
  rowsPartial: number;
  rowsRejected: number;
  rejectsByReason: Record<RejectReason, number>;
  /** Share of rows with a usable value, per column (0–1). */
  columnCompleteness: Record<string, number>;
  /** Distinct values seen per dimension. */
  dimensionUniqueness: Record<string, number>;
  timeSeriesCount: number;
}

export interface Aggregation {
  /** Interval start (ms) → series of that interval. */
  readonly intervals: Map<number, IntervalCells>;
  readonly rejects: RejectedRow[];
  readonly quality: DataQualityReport;
}

export interface AggregateOptions {
  readonly intervalMs: number;
  /** Only rows in [from, to) are used; the others are rejected as OUTSIDE_INTERVAL. */
  readonly window?: { readonly from: number; readonly to: number };
  /** Rows another source already gives (the same interval read from two places): neither used nor counted. */
  readonly skip?: (file: string, intervalStart: number) => boolean;
}

const emptyReasons = () => Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;

/** Validates rows and sums them per interval and series; every unusable row is kept with its reason. */
export function aggregateRows(rows: Iterable<RawRow>, malformed: readonly MalformedRecord[], spec: RowSpec, options: AggregateOptions, files = 0): Aggregation {
  const intervals = new Map<number, IntervalCells>();
  const rejects: RejectedRow[] = malformed.map((m) => ({ file: m.file, line: m.line, reason: m.raw === "" ? "UNREADABLE_FILE" : "MALFORMED_RECORD", detail: m.detail, partial: false, row: m.raw }));
  const columns = [spec.timestampColumn, ...spec.dimensions, ...spec.measures];
  const filled = new Float64Array(columns.length);
  const distinct = spec.dimensions.map(() => new Set<string>());
  const series = new Set<string>();
  let rowsRead = malformed.length;
  let rowsAccepted = 0;
  let rowsPartial = 0;
  const nDims = spec.dimensions.length;

  for (const raw of rows) {
    const verdict = classifyRow(raw, spec, options.window);
    if (verdict.ok && options.skip?.(raw.file, Math.floor(verdict.timestamp / options.intervalMs) * options.intervalMs)) continue;
    rowsRead++;
    if (!verdict.ok) {
      rejects.push(verdict.rejected);
      continue;
    }
    rowsAccepted++;
    if (verdict.problems.length) {
      rowsPartial++;
      rejects.push(...verdict.problems);
    }
    filled[0]!++;
    const start = Math.floor(verdict.timestamp / options.intervalMs) * options.intervalMs;
    let cells = intervals.get(start);
    if (!cells) intervals.set(start, (cells = new Map()));
    const key = seriesKeyOf(verdict.dimensions);
    series.add(key);
    let cell = cells.get(key);
    if (!cell) {
      cell = { dimensions: verdict.dimensions, sums: spec.measures.map(() => 0), counts: spec.measures.map(() => 0) };
      cells.set(key, cell);
    }
    for (let d = 0; d < nDims; d++) {
      filled[1 + d]!++;
      distinct[d]!.add(verdict.dimensions[d]!);
    }
    verdict.values.forEach((v, m) => {
      if (v === undefined) return;
      filled[1 + nDims + m]!++;
      cell.sums[m]! += v;
      cell.counts[m]!++;
    });
  }

  const rejectsByReason = emptyReasons();
  for (const r of rejects) rejectsByReason[r.reason]++;
  return {
    intervals,
    rejects,
    quality: {
      files,
      rowsRead,
      rowsAccepted,
      rowsPartial,
      rowsRejected: rowsRead - rowsAccepted,
      rejectsByReason,
      // No row at all: no column is complete.
      columnCompleteness: Object.fromEntries(columns.map((c, i) => [c, rowsRead ? filled[i]! / rowsRead : 0])),
      dimensionUniqueness: Object.fromEntries(spec.dimensions.map((d, i) => [d, distinct[i]!.size])),
      timeSeriesCount: series.size * spec.measures.length,
    },
  };
}

/** The value of measure `m` of a cell after the metric's aggregation; undefined when no row gave one. */
export function cellValue(cell: SeriesCell, m: number, fn: Metric["AggregationFunction"]): number | undefined {
  const count = cell.counts[m]!;
  if (count === 0) return undefined;
  return fn === "SUM" ? cell.sums[m]! : cell.sums[m]! / count;
}
