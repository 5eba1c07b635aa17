import type { Metric } from "../model/metric-set.ts";
import type { MalformedRecord, RawRow } from "./readers.ts";
import { KeyTable } from "../model/key-tables.ts";
import { dimensionsOfKey } from "./series-key.ts";
import { classifyRow, malformedReject, type IntervalWindow, type RejectReason, type RejectedRow, type RowSpec } from "./rows.ts";
import { RejectKeeper, REJECT_LIMITS, type RejectLimits, type RejectsNotKept } from "./rejects.ts";

/** One dimension combination's raw sums within one interval, per measure (metric set order). */
export interface SeriesCell {
  readonly dimensions: readonly string[];
  readonly sums: number[];
  readonly counts: number[];
}

/** All series of one interval, by series key. */
export type IntervalCells = Map<string, SeriesCell>;

/** Interval start (ms) → series of that interval. */
export type IntervalsOf = ReadonlyMap<number, IntervalCells>;

/**
 * What reading one interval's cells in order needs (a Map of cells is one). The cell handed
 * to `visit` may be reused for the next one: keep its dimensions, not the cell.
 */
export interface CellWalk {
  /** How many cells the walk visits. */
  readonly size: number;
  forEach(visit: (cell: SeriesCell, seriesKey: string) => void): void;
}

/** One interval's cells to read in order, without making an object per cell when the aggregate is kept in columns. */
export function cellsAt(intervals: IntervalsOf, start: number): CellWalk | undefined {
  return intervals instanceof ColumnIntervals ? intervals.walk(start) : intervals.get(start);
}

/** L4M's data quality figures for one interval (or one backtest's history). */
export interface DataQualityReport {
  files: number;
  rowsRead: number;
  rowsAccepted: number;
  rowsPartial: number;
  rowsRejected: number;
  /** Every reject (a row, or a measure of a partial row), kept or not. */
  rejectsByReason: Record<RejectReason, number>;
  /** Rejects counted but not kept with their fields (past REJECT_LIMITS): the rejects' summaries say where they are. Absent from records written before. */
  rejectsNotKept?: number;
  /** Share of rows with a usable value, per column (0–1). */
  columnCompleteness: Record<string, number>;
  /** Distinct values seen per dimension. */
  dimensionUniqueness: Record<string, number>;
  timeSeriesCount: number;
}

export interface Aggregation {
  /**
   * Interval start (ms) → series of that interval, in the order the rows brought them. An
   * interval's cells are made when asked for (the aggregate itself is kept in columns).
   */
  readonly intervals: IntervalsOf;
  /** The first rejects, with their fields (within the limits). */
  readonly rejects: RejectedRow[];
  /** The others, counted per file and reason. */
  readonly rejectsNotKept: RejectsNotKept[];
  readonly quality: DataQualityReport;
}

export interface AggregateOptions {
  readonly intervalMs: number;
  /** Only rows in [from, to) are used; the others are rejected as OUTSIDE_INTERVAL. */
  readonly window?: IntervalWindow;
  /** Rows another source already gives (the same interval read from two places): neither used nor counted. */
  readonly skip?: (file: string, intervalStart: number) => boolean;
  /** How many rejects are kept with their fields (REJECT_LIMITS unless told). */
  readonly rejectLimits?: RejectLimits;
}

/**
 * Every (series, interval) cell's sums and counts, in columns: a cell costs a few typed-array
 * slots (about 20 + 12 bytes per measure), not an object and two arrays. Cells are numbered
 * in the order rows first brought them; an open-addressing table finds a cell by its series
 * and interval numbers.
 */
class CellColumns {
  size = 0;
  series = new Int32Array(64);
  interval = new Int32Array(64);
  sums: Float64Array;
  counts: Uint32Array;
  /** Cell number + 1 per slot; 0 is an empty slot. Kept at most half full. */
  private slots = new Int32Array(128);

  constructor(private readonly measures: number) {
    this.sums = new Float64Array(64 * measures);
    this.counts = new Uint32Array(64 * measures);
  }

  /** The cell of `series` in `interval`, made (all zero) when it is new; `fresh`: the series is new, so is its cell (not looked for). */
  cellOf(series: number, interval: number, fresh = false): number {
    const { slots } = this;
    const mask = slots.length - 1;
    for (let i = hashOf(series, interval) & mask; !fresh; i = (i + 1) & mask) {
      const held = slots[i]!;
      if (held === 0) break;
      if (this.series[held - 1] === series && this.interval[held - 1] === interval) return held - 1;
    }
    const cell = this.size++;
    if (cell === this.series.length) this.growColumns();
    this.series[cell] = series;
    this.interval[cell] = interval;
    if (this.size * 2 > slots.length) this.rehash(slots.length * 2);
    else this.place(cell);
    return cell;
  }

  private place(cell: number): void {
    const { slots } = this;
    const mask = slots.length - 1;
    let i = hashOf(this.series[cell]!, this.interval[cell]!) & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = cell + 1;
  }

  private rehash(length: number): void {
    this.slots = new Int32Array(length);
    for (let c = 0; c < this.size; c++) this.place(c);
  }

  private growColumns(): void {
    const n = this.series.length * 2;
    const grown = <T extends Int32Array | Float64Array | Uint32Array>(a: T, make: (n: number) => T, per = 1): T => {
      const b = make(n * per);
      b.set(a);
      return b;
    };
    this.series = grown(this.series, (k) => new Int32Array(k));
    this.interval = grown(this.interval, (k) => new Int32Array(k));
    this.sums = grown(this.sums, (k) => new Float64Array(k), this.measures);
    this.counts = grown(this.counts, (k) => new Uint32Array(k), this.measures);
  }
}

/** A 32-bit mix of two small integers (murmur3's finalizer over their combination). */
function hashOf(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return h ^ (h >>> 15);
}

/** A series' dimension values, from its number. */
export type DimensionsOf = (series: number) => readonly string[];

/**
 * The aggregate read as intervals of cells: each interval's cells (a Map by series key, in
 * the order rows brought them) are made when asked for and not kept, so a reader that walks
 * the intervals one by one holds one interval's objects at a time.
 */
class ColumnIntervals implements ReadonlyMap<number, IntervalCells> {
  /** Cell numbers grouped by interval number (each group in cell order), and where each group starts. */
  private readonly order: Int32Array;
  private readonly offsets: Int32Array;

  constructor(
    private readonly numbers: Map<number, number>,
    private readonly columns: CellColumns,
    private readonly seriesKeys: readonly string[],
    private readonly dimensionsOf: DimensionsOf,
    private readonly measures: number,
  ) {
    const offsets = new Int32Array(numbers.size + 1);
    for (let c = 0; c < columns.size; c++) offsets[columns.interval[c]! + 1]!++;
    for (let i = 0; i < numbers.size; i++) offsets[i + 1]! += offsets[i]!;
    const next = offsets.slice(0, numbers.size);
    const order = new Int32Array(columns.size);
    for (let c = 0; c < columns.size; c++) order[next[columns.interval[c]!]!++] = c;
    this.order = order;
    this.offsets = offsets;
  }

  get size(): number {
    return this.numbers.size;
  }

  has(start: number): boolean {
    return this.numbers.has(start);
  }

  get(start: number): IntervalCells | undefined {
    const n = this.numbers.get(start);
    return n === undefined ? undefined : this.cellsOf(n);
  }

  /** The cells of the interval starting at `start`, read in order through one reused cell. */
  walk(start: number): CellWalk | undefined {
    const n = this.numbers.get(start);
    if (n === undefined) return undefined;
    return {
      size: this.offsets[n + 1]! - this.offsets[n]!,
      forEach: (visit) => {
        const { columns, measures, dimensionsOf } = this;
        let s = 0;
        let split: readonly string[] | undefined;
        // Dimension values are split from the key only for the cells whose reader asks for them.
        const cell: SeriesCell = {
          get dimensions() {
            return (split ??= dimensionsOf(s));
          },
          sums: new Array<number>(measures).fill(0),
          counts: new Array<number>(measures).fill(0),
        };
        for (let k = this.offsets[n]!; k < this.offsets[n + 1]!; k++) {
          const c = this.order[k]!;
          s = columns.series[c]!;
          split = undefined;
          for (let m = 0; m < measures; m++) {
            cell.sums[m] = columns.sums[c * measures + m]!;
            cell.counts[m] = columns.counts[c * measures + m]!;
          }
          visit(cell, this.seriesKeys[s]!);
        }
      },
    };
  }

  private cellsOf(n: number): IntervalCells {
    const { columns, measures } = this;
    const cells: IntervalCells = new Map();
    for (let k = this.offsets[n]!; k < this.offsets[n + 1]!; k++) {
      const c = this.order[k]!;
      const s = columns.series[c]!;
      const at = c * measures;
      cells.set(this.seriesKeys[s]!, { dimensions: this.dimensionsOf(s), sums: Array.from(columns.sums.subarray(at, at + measures)), counts: Array.from(columns.counts.subarray(at, at + measures)) });
    }
    return cells;
  }

  keys(): MapIterator<number> {
    return this.numbers.keys();
  }

  *values(): MapIterator<IntervalCells> {
    for (const n of this.numbers.values()) yield this.cellsOf(n);
  }

  *entries(): MapIterator<[number, IntervalCells]> {
    for (const [start, n] of this.numbers) yield [start, this.cellsOf(n)];
  }

  [Symbol.iterator](): MapIterator<[number, IntervalCells]> {
    return this.entries();
  }

  forEach(visit: (cells: IntervalCells, start: number, map: ReadonlyMap<number, IntervalCells>) => void): void {
    for (const [start, cells] of this.entries()) visit(cells, start, this);
  }
}

/**
 * Validates rows and sums them per interval and series as they come (`add`), so a file of
 * any size is aggregated without holding its rows; every unusable row is counted with its
 * reason, and the first ones kept (RejectKeeper). A series' key and dimension values are kept once, however many intervals it has,
 * and its sums and counts in typed columns (CellColumns).
 */
export class Aggregator {
  /** Interval start → its number (in the order rows first brought it). */
  private readonly intervalNumbers = new Map<number, number>();
  private readonly rejects: RejectKeeper;
  private readonly filled: Float64Array;
  private readonly distinct: Set<string>[];
  /** Series key → its number (one string per series, not per cell). */
  private readonly series = new KeyTable();
  private readonly columns: CellColumns;
  private rowsRead = 0;
  private rowsAccepted = 0;
  private rowsPartial = 0;

  constructor(
    private readonly spec: RowSpec,
    private readonly options: AggregateOptions,
  ) {
    this.filled = new Float64Array(1 + spec.dimensions.length + spec.measures.length);
    this.distinct = spec.dimensions.map(() => new Set<string>());
    this.columns = new CellColumns(spec.measures.length);
    this.rejects = new RejectKeeper(options.rejectLimits ?? REJECT_LIMITS);
  }

  /** The (series, interval) cells summed so far: what the aggregate holds in memory. */
  get cells(): number {
    return this.columns.size;
  }

  /** A record that could not be read as a row. */
  malformed(m: MalformedRecord): void {
    this.rowsRead++;
    this.rejects.add(malformedReject(m));
  }

  add(raw: RawRow): void {
    const { spec, options, filled, columns } = this;
    const verdict = classifyRow(raw, spec, options.window);
    if (verdict.ok && options.skip?.(raw.file, Math.floor(verdict.timestamp / options.intervalMs) * options.intervalMs)) return;
    this.rowsRead++;
    if (!verdict.ok) {
      this.rejects.add(verdict.rejected);
      return;
    }
    this.rowsAccepted++;
    if (verdict.problems.length) {
      this.rowsPartial++;
      for (const p of verdict.problems) this.rejects.add(p);
    }
    filled[0]!++;
    const start = Math.floor(verdict.timestamp / options.intervalMs) * options.intervalMs;
    let interval = this.intervalNumbers.get(start);
    if (interval === undefined) this.intervalNumbers.set(start, (interval = this.intervalNumbers.size));
    const known = this.series.size;
    const series = this.series.intern(verdict.seriesKey);
    const at = columns.cellOf(series, interval, series === known) * spec.measures.length;
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
      columns.sums[at + m]! += v;
      columns.counts[at + m]!++;
    }
  }

  private readonly dimensionsOf: DimensionsOf = (series) => dimensionsOfKey(this.series.keys[series]!);

  finish(files = 0): Aggregation {
    const { spec, rejects, rowsRead, filled } = this;
    const columns = [spec.timestampColumn, ...spec.dimensions, ...spec.measures];
    return {
      intervals: new ColumnIntervals(this.intervalNumbers, this.columns, this.series.keys, this.dimensionsOf, spec.measures.length),
      rejects: rejects.rows,
      rejectsNotKept: rejects.notKeptSummaries,
      quality: {
        files,
        rowsRead,
        rowsAccepted: this.rowsAccepted,
        rowsPartial: this.rowsPartial,
        rowsRejected: rowsRead - this.rowsAccepted,
        rejectsByReason: rejects.rejectsByReason,
        rejectsNotKept: rejects.notKeptCount,
        // No row at all: no column is complete.
        columnCompleteness: Object.fromEntries(columns.map((c, i) => [c, rowsRead ? filled[i]! / rowsRead : 0])),
        dimensionUniqueness: Object.fromEntries(spec.dimensions.map((d, i) => [d, this.distinct[i]!.size])),
        timeSeriesCount: this.series.size * spec.measures.length,
      },
    };
  }
}

/** Validates rows and sums them per interval and series; every unusable row is counted with its reason, the first ones kept. */
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
