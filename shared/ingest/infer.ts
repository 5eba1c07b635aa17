import { cellText } from "./rows.ts";
import type { FileFormatDescriptor } from "../model/metric-set.ts";
import type { Frequency } from "../model/frequency.ts";
import { readCsv, readJsonLines, type FileHead, type RawRow } from "./readers.ts";
import { makeTimestampParser } from "./timestamp.ts";

/**
 * What a sample file says about itself (L4M's DetectMetricSetConfig and GetSampleData):
 * its format (JSON Lines or CSV, delimiter, header, compression), and, beyond L4M, which
 * column holds the timestamps and in what form, which columns are measures (numbers) and
 * which dimensions (text), and the interval between timestamps. Each guess says how sure
 * it is: HIGH when every sampled value agrees, LOW when most do.
 */
export type Confidence = "HIGH" | "LOW" | "NONE";
export interface Guess<T> {
  readonly value: T | undefined;
  readonly confidence: Confidence;
  readonly message?: string;
}

export interface InferredConfig {
  readonly format: FileFormatDescriptor;
  readonly compression: Guess<"NONE" | "GZIP">;
  readonly containsHeader: Guess<boolean>;
  readonly delimiter: Guess<string>;
  readonly header: Guess<string[]>;
  readonly timestampColumn: Guess<{ ColumnName: string; ColumnFormat: string }>;
  readonly measures: Guess<string[]>;
  readonly dimensions: Guess<string[]>;
  readonly frequency: Guess<Frequency>;
  /** The first rows, as text, for GetSampleData. */
  readonly sampleRows: string[][];
}

const SAMPLE = 200;
const DELIMITERS = [",", ";", "\t", "|"] as const;
const FORMATS = [
  ["ISO_8601", (v: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)],
  ["yyyy-MM-dd HH:mm:ss", (v: string) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(v)],
  ["yyyy-MM-dd HH:mm", (v: string) => /^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(v)],
  ["yyyy-MM-dd", (v: string) => /^\d{4}-\d\d-\d\d$/.test(v)],
  ["EPOCH_MILLISECONDS", (v: string) => /^\d{12,14}$/.test(v)],
  ["EPOCH_SECONDS", (v: string) => /^\d{9,11}$/.test(v)],
] as const;
const FREQUENCIES: [Frequency, number][] = [
  ["PT1M", 60_000],
  ["PT5M", 300_000],
  ["PT10M", 600_000],
  ["PT1H", 3_600_000],
  ["P1D", 86_400_000],
];

const DAY = 86_400_000;
/** Stamps at a zone's midnight are 23 or 25 hours apart where summer time starts or ends: such a gap is whole days. */
const asDays = (gap: number) => (gap >= DAY - 3_600_000 && Math.abs(gap - Math.round(gap / DAY) * DAY) <= 3_600_000 ? Math.round(gap / DAY) * DAY : gap);
const isNumber = (v: unknown) => (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)));
const sure = <T>(value: T, share: number, what: string): Guess<T> => ({ value, confidence: share >= 1 ? "HIGH" : share >= 0.8 ? "LOW" : "NONE", ...(share < 1 ? { message: `${Math.round(share * 100)}% of sampled ${what} agree` } : {}) });

function bestDelimiter(lines: readonly string[]): { delimiter: string; share: number } {
  let best = { delimiter: ",", share: 0, columns: 1 };
  for (const d of DELIMITERS) {
    const counts = lines.map((l) => l.split(d).length);
    const columns = counts[0] ?? 1;
    const share = counts.filter((c) => c === columns).length / Math.max(1, counts.length);
    if (columns > 1 && (share > best.share || (share === best.share && columns > best.columns))) best = { delimiter: d, share, columns };
  }
  return best;
}

/** What the start of a sample file says of it (readHead reads it: a bounded part of the file, never all of it). */
export function inferConfig(head: Pick<FileHead, "text" | "gzipped">): InferredConfig {
  const gzip = head.gzipped;
  const text = head.text;
  const lines = text.split(/\r?\n/).filter((l) => l.trim()).slice(0, SAMPLE + 1);
  const compression: Guess<"NONE" | "GZIP"> = { value: gzip ? "GZIP" : "NONE", confidence: "HIGH" };
  const json = lines[0]?.trimStart().startsWith("{") ?? false;
  let rows: RawRow[];
  let header: string[];
  let delimiter: Guess<string> = { value: undefined, confidence: "NONE" };
  let containsHeader: Guess<boolean> = { value: undefined, confidence: "NONE" };
  let format: FileFormatDescriptor;
  if (json) {
    rows = readJsonLines("sample", lines.join("\n")).rows;
    header = [...new Set(rows.flatMap((r) => Object.keys(r.fields)))];
    format = { JsonFormatDescriptor: { FileCompression: compression.value!, Charset: "utf-8" } };
  } else {
    const d = bestDelimiter(lines);
    delimiter = sure(d.delimiter, d.share, "lines");
    const first = lines[0]?.split(d.delimiter) ?? [];
    const second = lines[1]?.split(d.delimiter) ?? [];
    // A header row has no numbers where the data has them.
    const hasHeader = first.length > 0 && first.every((c, i) => !isNumber(c) || !isNumber(second[i] ?? ""));
    containsHeader = { value: hasHeader, confidence: lines.length > 1 ? "HIGH" : "LOW" };
    header = hasHeader ? first.map((c) => c.trim().replace(/^"|"$/g, "")) : first.map((_, i) => `column${i + 1}`);
    const csv = { FileCompression: compression.value!, Charset: "utf-8", ContainsHeader: hasHeader, Delimiter: d.delimiter, QuoteSymbol: '"', ...(hasHeader ? {} : { HeaderList: header }) };
    format = { CsvFormatDescriptor: csv };
    rows = readCsv("sample", lines.join("\n"), csv).rows;
  }
  const values = (c: string) => rows.map((r) => r.fields[c]).filter((v) => v !== undefined && v !== null && v !== "");
  const share = (c: string, test: (v: string) => boolean) => {
    const vs = values(c);
    return vs.length ? vs.filter((v) => test(cellText(v).trim())).length / vs.length : 0;
  };

  let timestamp: Guess<{ ColumnName: string; ColumnFormat: string }> = { value: undefined, confidence: "NONE", message: "no column holds timestamps" };
  let bestShare = 0;
  for (const c of header) {
    for (const [fmt, test] of FORMATS) {
      const s = share(c, test);
      // Epoch numbers are only timestamps in a column named like one.
      if (fmt.startsWith("EPOCH") && !/time|date|ts/i.test(c)) continue;
      if (s > bestShare) {
        bestShare = s;
        timestamp = sure({ ColumnName: c, ColumnFormat: fmt }, s, "values");
      }
    }
  }
  const tsColumn = timestamp.value?.ColumnName;
  const rest = header.filter((c) => c !== tsColumn);
  const numeric = rest.filter((c) => share(c, isNumber) >= 0.8);
  const measures: Guess<string[]> = { value: numeric, confidence: numeric.every((c) => share(c, isNumber) === 1) ? "HIGH" : "LOW" };
  const dimensions: Guess<string[]> = { value: rest.filter((c) => !numeric.includes(c)), confidence: "HIGH" };

  let frequency: Guess<Frequency> = { value: undefined, confidence: "NONE", message: "fewer than two distinct timestamps" };
  if (timestamp.value) {
    const parse = makeTimestampParser(timestamp.value.ColumnFormat);
    const times = [...new Set(values(timestamp.value.ColumnName).map((v) => parse(v)).filter((t): t is number => t !== undefined))].sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => asDays(t - times[i]!));
    const smallest = Math.min(...gaps);
    const match = FREQUENCIES.find(([, ms]) => ms === smallest);
    if (gaps.length && match) frequency = sure(match[0], gaps.filter((g) => g % smallest === 0).length / gaps.length, "intervals");
    else if (gaps.length) frequency = { value: undefined, confidence: "NONE", message: `timestamps are ${smallest / 1000} s apart, not one of ${FREQUENCIES.map(([f]) => f).join(", ")}` };
  }
  const sampleRows = rows.slice(0, 10).map((r) => header.map((c) => (r.fields[c] === undefined ? "" : cellText(r.fields[c]))));
  return { format, compression, containsHeader, delimiter, header: { value: header, confidence: "HIGH" }, timestampColumn: timestamp, measures, dimensions, frequency, sampleRows };
}
