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

/**
 * Validates rows and sums them per interval and series as they come (`add`), so a file of
 * any size is aggregated without holding its rows; every unusable row is kept with its
 * reason. A series' dimension values are kept once, however many intervals it has.
 */
export class Aggregator {
  private readonly intervals = new Map<number, IntervalCells>();
  private readonly rejects: RejectedRow[] = [];
  private readonly filled: Float64Array;
  private readonly distinct: Set<string>[];
  /** Series key → the key and dimension values its cells share (one string and one array per series, not per row). */
  private readonly series = new Map<string, { readonly key: string; readonly dimensions: readonly string[] }>();
  private rowsRead = 0;
  private rowsAccepted = 0;
  private rowsPartial = 0;

  constructor(
    private readonly spec: RowSpec,
    private readonly options: AggregateOptions,
  ) {
    this.filled = new Float64Array(1 + spec.dimensions.length + spec.measures.length);
    this.distinct = spec.dimensions.map(() => new Set<string>());
  }

  /** A record that could not be read as a row. */
  malformed(m: MalformedRecord): void {
    this.rowsRead++;
    this.rejects.push({ file: m.file, line: m.line, reason: m.raw === "" ? "UNREADABLE_FILE" : "MALFORMED_RECORD", detail: m.detail, partial: false, row: m.raw });
  }

  add(raw: RawRow): void {
    const { spec, options, filled } = this;
    const verdict = classifyRow(raw, spec, options.window);
    if (verdict.ok && options.skip?.(raw.file, Math.floor(verdict.timestamp / options.intervalMs) * options.intervalMs)) return;
    this.rowsRead++;
    if (!verdict.ok) {
      this.rejects.push(verdict.rejected);
      return;
    }
    this.rowsAccepted++;
    if (verdict.problems.length) {
      this.rowsPartial++;
      this.rejects.push(...verdict.problems);
    }
    filled[0]!++;
    const start = Math.floor(verdict.timestamp / options.intervalMs) * options.intervalMs;
    let cells = this.intervals.get(start);
    if (!cells) this.intervals.set(start, (cells = new Map()));
    const made = seriesKeyOf(verdict.dimensions);
    let series = this.series.get(made);
    if (!series) this.series.set(made, (series = { key: made, dimensions: verdict.dimensions }));
    let cell = cells.get(series.key);
    if (!cell) {
      cell = { dimensions: series.dimensions, sums: spec.measures.map(() => 0), counts: spec.measures.map(() => 0) };
      cells.set(series.key, cell);
    }
    const nDims = spec.dimensions.length;
    for (let d = 0; d < nDims; d++) {
      filled[1 + d]!++;
      this.distinct[d]!.add(verdict.dimensions[d]!);
    }
    const values = verdict.values;
    for (let m = 0; m < values.length; m++) {
      const v = values[m];
      if (v === undefined) continue;
      filled[1 + nDims + m]!++;
      cell.sums[m]! += v;
      cell.counts[m]!++;
    }
  }

  finish(files = 0): Aggregation {
    const { spec, rejects, rowsRead, filled } = this;
    const columns = [spec.timestampColumn, ...spec.dimensions, ...spec.measures];
    const rejectsByReason = emptyReasons();
    for (const r of rejects) rejectsByReason[r.reason]++;
    return {
      intervals: this.intervals,
      rejects,
      quality: {
        files,
        rowsRead,
        rowsAccepted: this.rowsAccepted,
        rowsPartial: this.rowsPartial,
        rowsRejected: rowsRead - this.rowsAccepted,
        rejectsByReason,
        // No row at all: no column is complete.
        columnCompleteness: Object.fromEntries(columns.map((c, i) => [c, rowsRead ? filled[i]! / rowsRead : 0])),
        dimensionUniqueness: Object.fromEntries(spec.dimensions.map((d, i) => [d, this.distinct[i]!.size])),
        timeSeriesCount: this.series.size * spec.measures.length,
      },
    };
  }
}

/** Validates rows and sums them per interval and series; every unusable row is kept with its reason. */
export function aggregateRows(rows: Iterable<RawRow>, malformed: readonly MalformedRecord[], spec: RowSpec, options: AggregateOptions, files = 0): Aggregation {
  const aggregator = new Aggregator(spec, options);
  for (const m of malformed) aggregator.malformed(m);
  for (const raw of rows) aggregator.add(raw);
  return aggregator.finish(files);
}

/** The value of measure `m` of a cell after the metric's aggregation; undefined when no row gave one. */
export function cellValue(cell: SeriesCell, m: number, fn: Metric["AggregationFunction"]): number | undefined {
  const count = cell.counts[m]!;
  if (count === 0) return undefined;
  return fn === "SUM" ? cell.sums[m]! : cell.sums[m]! / count;
}
