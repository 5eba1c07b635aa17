import { gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import type { FileFormatDescriptor } from "../model/metric-set.ts";

/** One record read from a file, before validation: field values by column name. */
export interface RawRow {
  readonly file: string;
  /** 1-based line of the record's start in the (decompressed) file. */
  readonly line: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A record that could not even be read as a record (bad quoting, bad JSON). */
export interface MalformedRecord {
  readonly file: string;
  readonly line: number;
  readonly raw: string;
  readonly detail: string;
}

export interface ReadResult {
  readonly rows: RawRow[];
  readonly malformed: MalformedRecord[];
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** A file whose bytes cannot be turned into text at all: a truncated or corrupt GZIP stream, an unknown charset. */
export class UnreadableFile extends Error {
  override readonly name = "UnreadableFile";
  readonly code = "UnreadableFile";
}

/** Decompresses (GZIP when declared or when the bytes say so) and decodes a file's bytes; throws UnreadableFile. */
export function decodeFile(bytes: Uint8Array, compression: "NONE" | "GZIP" | undefined, charset = "utf-8"): string {
  const gzipped = compression === "GZIP" || (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]);
  try {
    const plain = gzipped ? gunzipSync(bytes) : bytes;
    return new TextDecoder(charset).decode(plain);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new UnreadableFile(gzipped ? `not a readable GZIP file (${why})` : `cannot be decoded as ${charset} (${why})`, { cause: e });
  }
}

/**
 * Reads a file in the metric set's format into raw rows. Nothing throws: an unreadable
 * record is returned with its line, and an unreadable file as one record at line 0.
 */
export function readRecords(file: string, bytes: Uint8Array, format: FileFormatDescriptor | undefined): ReadResult {
  const json = format?.JsonFormatDescriptor;
  const csv = format?.CsvFormatDescriptor ?? {};
  const descriptor = json ?? csv;
  let text: string;
  try {
    text = decodeFile(bytes, descriptor.FileCompression, descriptor.Charset);
  } catch (e) {
    if (!(e instanceof UnreadableFile)) throw e;
    return { rows: [], malformed: [{ file, line: 0, raw: "", detail: `unreadable file: ${e.message}` }] };
  }
  return json ? readJsonLines(file, text) : readCsv(file, text, csv);
}

type CsvOptions = NonNullable<FileFormatDescriptor["CsvFormatDescriptor"]>;

interface CsvRecordInfo {
  record: string[];
  info: { lines: number };
}

export function readCsv(file: string, text: string, options: CsvOptions): ReadResult {
  const malformed: MalformedRecord[] = [];
  const records = parse(text, {
    delimiter: options.Delimiter ?? ",",
    quote: options.QuoteSymbol === "" ? false : (options.QuoteSymbol ?? '"'),
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    bom: true,
    info: true,
    on_skip: (err: { message: string; lines?: number } | undefined, chunk: string | undefined) => {
      malformed.push({ file, line: err?.lines ?? 0, raw: String(chunk ?? "").slice(0, 2000), detail: err?.message ?? "unreadable CSV record" });
    },
  }) as unknown as CsvRecordInfo[];
  const hasHeader = options.ContainsHeader ?? true;
  const first = records[0];
  const header = options.HeaderList ?? (hasHeader && first ? first.record.map((c) => c.trim()) : undefined);
  if (!header) return { rows: [], malformed };
  const body = hasHeader ? records.slice(1) : records;
  const rows = body.map(({ record, info }) => {
    const fields: Record<string, unknown> = {};
    // Cells past the header stay unnamed: the row validator reports the width mismatch.
    header.forEach((name, i) => {
      if (i < record.length) fields[name] = record[i];
    });
    if (record.length > header.length) fields[EXTRA_CELLS] = record.slice(header.length);
    return { file, line: info.lines, fields };
  });
  return { rows, malformed };
}

/** Key under which a CSV row's cells beyond the header are kept. */
export const EXTRA_CELLS = "\u0000extra";

export function readJsonLines(file: string, text: string): ReadResult {
  const rows: RawRow[] = [];
  const malformed: MalformedRecord[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    try {
      const value: unknown = JSON.parse(raw);
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("a JSON line must be an object");
      rows.push({ file, line: i + 1, fields: value as Record<string, unknown> });
    } catch (e) {
      malformed.push({ file, line: i + 1, raw: raw.slice(0, 2000), detail: e instanceof Error ? e.message : String(e) });
    }
  });
  return { rows, malformed };
}
