import type { MetricSet } from "../model/metric-set.ts";
import { dimensionsOf, measuresOf } from "../model/metric-set.ts";
import { EXTRA_CELLS, REPEATED_COLUMNS, type MalformedRecord, type RawRow } from "./readers.ts";
import { seriesKeyOf } from "./series-key.ts";
import type { TimestampParser } from "./timestamp.ts";

/** Why a row (or one of its measures) could not be used. */
export const REJECT_REASONS = [
  "MALFORMED_RECORD",
  "UNREADABLE_FILE",
  "EXTRA_CELLS",
  "MISSING_COLUMN",
  "INVALID_TIMESTAMP",
  "OUTSIDE_INTERVAL",
  "MISSING_DIMENSION_VALUE",
  "FILTERED_DIMENSION_VALUE",
  "DIMENSION_VALUES_TOO_LONG",
  "MISSING_MEASURE_VALUE",
  "NON_NUMERIC_MEASURE",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * The most characters a row's dimension values hold together (its series key): far beyond
 * any labels, and well under 16,384, from which V8 hashes a string by its length alone, so
 * the Maps and Sets series keys and values go into (distinct values, a series table that
 * gave way: key-tables.ts) cannot be made quadratic by a file of long values.
 */
export const MAX_SERIES_KEY_LENGTH = 8192;

/** A row kept aside with its reason; `partial` rows still gave some measures. */
export interface RejectedRow {
  readonly file: string;
  readonly line: number;
  readonly reason: RejectReason;
  readonly detail: string;
  readonly partial: boolean;
  readonly row: Readonly<Record<string, unknown>> | string;
}

export type RowVerdict =
  | { readonly ok: true; readonly timestamp: number; readonly dimensions: string[]; readonly seriesKey: string; readonly values: (number | undefined)[]; readonly problems: RejectedRow[] }
  | { readonly ok: false; readonly rejected: RejectedRow };

/** What the row validator needs to know of a metric set. */
export interface RowSpec {
  readonly timestampColumn: string;
  readonly dimensions: readonly string[];
  readonly measures: readonly string[];
  /** Allowed values per dimension, from `DimensionFilterList`; absent = all. */
  readonly allowed: ReadonlyMap<string, ReadonlySet<string>>;
  readonly parseTimestamp: TimestampParser;
}

export function rowSpecOf(metricSet: Pick<MetricSet, "TimestampColumn" | "DimensionList" | "MetricList" | "DimensionFilterList">, parseTimestamp: TimestampParser): RowSpec {
  return {
    timestampColumn: metricSet.TimestampColumn?.ColumnName ?? "timestamp",
    dimensions: dimensionsOf(metricSet),
    measures: measuresOf(metricSet),
    allowed: new Map((metricSet.DimensionFilterList ?? []).map((f) => [f.Name, new Set(f.FilterList.map((x) => x.DimensionValue))])),
    parseTimestamp,
  };
}

const isBlank = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");

/** Beyond this a value is no business figure, and the engine does not score it (its Learning.MAX_VALUE, engine/step.ts: its state keeps 32-bit floats; ingest loads no engine, so the number is written here too). */
export const MAX_MEASURE = 1e30;

function parseMeasure(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && Math.abs(v) <= MAX_MEASURE ? v : undefined;
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && Math.abs(n) <= MAX_MEASURE ? n : undefined;
}

/** A number (or its text) whose magnitude is past MAX_MEASURE. */
const tooLarge = (v: unknown) => {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : NaN;
  return Math.abs(n) > MAX_MEASURE;
};

/** A JSON object or array: no time, value or figure, and String() of one may throw (`{"toString":0}`). */
const isCompound = (v: unknown): v is object => typeof v === "object" && v !== null;

/** What a compound cell is called where its content is not shown. */
const compoundName = (v: object) => (Array.isArray(v) ? "a JSON array" : "a JSON object");

/** A cell as text, as a sample shows it: a JSON object or array as its JSON (String() of one may throw), never throwing. */
export function cellText(v: unknown): string {
  if (!isCompound(v)) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return compoundName(v);
  }
}

/** A cell as a reject's detail quotes it, without String() of an object, which may throw. */
const quoted = (v: unknown) => (isCompound(v) ? compoundName(v) : `'${String(v)}'`);

/** A record that could not be read as a row, as a reject: a file that could not be read (line 0), or a malformed record. */
export const malformedReject = (m: MalformedRecord): RejectedRow => ({ file: m.file, line: m.line, reason: m.line === 0 ? "UNREADABLE_FILE" : "MALFORMED_RECORD", detail: m.detail, partial: false, row: m.raw });

const rejectOf = (raw: RawRow, reason: RejectReason, detail: string, partial = false): RejectedRow => ({ file: raw.file, line: raw.line, reason, detail, partial, row: raw.fields });

/** An interval rows must fall in, [from, to) in interval time (interval-time.ts), and how a reject names it where its bounds as instants would mislead (a day of a zone: its date there). */
export interface IntervalWindow {
  readonly from: number;
  readonly to: number;
  readonly named?: string;
}

/**
 * Checks one row against the metric set and, when `window` is given, the interval
 * [from, to). A row is rejected whole when it cannot name its series or time; a bad
 * measure only loses that measure and is reported as a partial row.
 */
export function classifyRow(raw: RawRow, spec: RowSpec, window?: IntervalWindow): RowVerdict {
  const fields = raw.fields;
  if (fields[EXTRA_CELLS] !== undefined) return { ok: false, rejected: rejectOf(raw, "EXTRA_CELLS", "row has more cells than the header") };
  const repeated = fields[REPEATED_COLUMNS] as readonly string[] | undefined;
  const ambiguous = repeated?.find((c) => c === spec.timestampColumn || spec.dimensions.includes(c) || spec.measures.includes(c));
  if (ambiguous !== undefined) return { ok: false, rejected: rejectOf(raw, "MALFORMED_RECORD", `the header names column '${ambiguous}' more than once, and its cells differ in this row: which is its value cannot be told`) };
  if (!(spec.timestampColumn in fields)) return { ok: false, rejected: rejectOf(raw, "MISSING_COLUMN", `column '${spec.timestampColumn}' is missing`) };
  for (const col of spec.dimensions) {
    if (!(col in fields)) return { ok: false, rejected: rejectOf(raw, "MISSING_COLUMN", `column '${col}' is missing`) };
  }
  const tsCell = fields[spec.timestampColumn];
  const timestamp = isCompound(tsCell) ? undefined : spec.parseTimestamp(tsCell);
  if (timestamp === undefined) return { ok: false, rejected: rejectOf(raw, "INVALID_TIMESTAMP", `${quoted(tsCell)} is not a timestamp`) };
  if (window && (timestamp < window.from || timestamp >= window.to)) {
    return {
      ok: false,
      // The time as the row writes it: a day of a zone is read as its date there (interval-time.ts), which no instant written with a Z would say.
      rejected: rejectOf(raw, "OUTSIDE_INTERVAL", `${quoted(tsCell)} is outside the interval ${window.named ?? `[${new Date(window.from).toISOString()}, ${new Date(window.to).toISOString()})`}`),
    };
  }
  const dimensions: string[] = [];
  let length = 0;
  for (const d of spec.dimensions) {
    const v = fields[d];
    if (isBlank(v)) return { ok: false, rejected: rejectOf(raw, "MISSING_DIMENSION_VALUE", `dimension '${d}' has no value`) };
    if (isCompound(v)) return { ok: false, rejected: rejectOf(raw, "MALFORMED_RECORD", `dimension '${d}' holds ${quoted(v)}, not a value`) };
    const value = String(v).trim();
    length += value.length + 1;
    if (length > MAX_SERIES_KEY_LENGTH + 1) return { ok: false, rejected: rejectOf(raw, "DIMENSION_VALUES_TOO_LONG", `the dimension values hold more than ${MAX_SERIES_KEY_LENGTH} characters together (reached at '${d}', ${value.length} characters)`) };
    const allowed = spec.allowed.get(d);
    if (allowed && !allowed.has(value)) return { ok: false, rejected: rejectOf(raw, "FILTERED_DIMENSION_VALUE", `${d}='${value}' is excluded by DimensionFilterList`) };
    dimensions.push(value);
  }
  // A key in JSON (a value holds U+001F) is longer than its values, up to six times: it is bounded as they are.
  const seriesKey = seriesKeyOf(dimensions);
  if (seriesKey.length > MAX_SERIES_KEY_LENGTH) return { ok: false, rejected: rejectOf(raw, "DIMENSION_VALUES_TOO_LONG", `the dimension values' series key holds more than ${MAX_SERIES_KEY_LENGTH} characters (${seriesKey.length}: a value holds U+001F, so the key writes the values in JSON)`) };
  const values: (number | undefined)[] = [];
  const problems: RejectedRow[] = [];
  for (const m of spec.measures) {
    const cell = fields[m];
    if (!(m in fields) || isBlank(cell)) {
      values.push(undefined);
      problems.push(rejectOf(raw, m in fields ? "MISSING_MEASURE_VALUE" : "MISSING_COLUMN", `measure '${m}' has no value`, true));
      continue;
    }
    const n = parseMeasure(cell);
    if (n === undefined) problems.push(rejectOf(raw, "NON_NUMERIC_MEASURE", `measure '${m}' = ${quoted(cell)} ${tooLarge(cell) ? `is beyond ±${MAX_MEASURE}, the largest value Vigil scores` : "is not a number"}`, true));
    values.push(n);
  }
  if (values.every((v) => v === undefined)) {
    const first = problems[0]!;
    return { ok: false, rejected: { ...first, partial: false } };
  }
  return { ok: true, timestamp, dimensions, seriesKey, values, problems };
}
