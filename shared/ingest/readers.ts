import { createGunzip, gunzipSync, type Gunzip } from "node:zlib";
import { Parser, type Options as CsvParseOptions } from "csv-parse";
import { parse } from "csv-parse/sync";
import type { FileFormatDescriptor } from "../model/metric-set.ts";
import { messageForTenant } from "../model/redact.ts";

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

/**
 * The longest record read (bytes of CSV, characters of a JSON line): far above any metric
 * set's row, it bounds what a broken file (a quote never closed, a line never ended) makes
 * the reader hold.
 */
export const MAX_RECORD_SIZE = 1024 * 1024;

/** A file whose bytes cannot be turned into text at all: a truncated or corrupt GZIP stream, an unknown charset. */
export class UnreadableFile extends Error {
  override readonly name = "UnreadableFile";
  readonly code = "UnreadableFile";
}

/** The most a whole file read at once (readRecords) inflates to: past it, the file is unreadable, not inflated on. */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;

/** Decompresses (GZIP when declared or when the bytes say so) and decodes a file's bytes; throws UnreadableFile, as for GZIP inflating past `maxBytes`. */
export function decodeFile(bytes: Uint8Array, compression: "NONE" | "GZIP" | undefined, charset = "utf-8", maxBytes = MAX_DECODED_BYTES): string {
  const gzipped = compression === "GZIP" || (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]);
  try {
    const plain = gzipped ? gunzipSync(bytes, { maxOutputLength: maxBytes }) : bytes;
    return new TextDecoder(charset).decode(plain);
  } catch (e) {
    const why = (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" ? `it inflates to more than ${maxBytes} bytes` : e instanceof Error ? e.message : String(e);
    throw new UnreadableFile(gzipped ? `not a readable GZIP file (${why})` : `cannot be decoded as ${charset} (${why})`, { cause: e });
  }
}

/**
 * Reads a file in the metric set's format into raw rows. Nothing throws: an unreadable
 * record is returned with its line, and an unreadable file as one record at line 0.
 */
export function readRecords(file: string, bytes: Uint8Array, format: FileFormatDescriptor | undefined): ReadResult {
  const descriptor = format?.JsonFormatDescriptor ?? format?.CsvFormatDescriptor ?? {};
  let text: string;
  try {
    text = decodeFile(bytes, descriptor.FileCompression, descriptor.Charset);
  } catch (e) {
    if (!(e instanceof UnreadableFile)) throw e;
    return { rows: [], malformed: [{ file, line: 0, raw: "", detail: `unreadable file: ${e.message}` }] };
  }
  return readText(file, text, format);
}

/** A file's text (decoded, inflated) in the metric set's format as raw rows. */
export function readText(file: string, text: string, format: FileFormatDescriptor | undefined): ReadResult {
  return format?.JsonFormatDescriptor ? readJsonLines(file, text) : readCsv(file, text, format?.CsvFormatDescriptor ?? {});
}

/** How much of a file's start is read (readHead): its first `lines`, from at most `bytes` of its text (inflated), and of the file. */
export interface HeadLimits {
  readonly bytes: number;
  readonly lines: number;
}

/** What a sample reads (DetectMetricSetConfig, GetSampleData): it looks at 200 rows at most (GetSampleData answers 10), and 1,000 lines, or 1 MiB of rows a kilobyte long, hold them. */
export const SAMPLE_LIMITS: HeadLimits = { bytes: 1024 * 1024, lines: 1_000 };

/** The start of a file, as a sample reads it. */
export interface FileHead {
  /** Its first whole lines: all of the file when it ends within the limits. */
  readonly text: string;
  readonly gzipped: boolean;
  /** Whether the limits stopped the read before the file's end. */
  readonly cut: boolean;
}

/**
 * The start of a file as its bytes arrive, GZIP (declared, or told by its first bytes)
 * inflated as it streams, up to the limits: no more of the file is read, nor inflated (a GZIP
 * file of empty members, or of one huge header, is read no further than `bytes` either), and
 * what is read is let go as it is decoded. Throws UnreadableFile (a GZIP stream that breaks
 * before the limits, an unknown charset).
 */
export async function readHead(chunks: AsyncIterable<Uint8Array>, descriptor: { readonly FileCompression?: "NONE" | "GZIP"; readonly Charset?: string } = {}, limits: HeadLimits = SAMPLE_LIMITS): Promise<FileHead> {
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(descriptor.Charset ?? "utf-8");
  } catch (e) {
    throw new UnreadableFile(`cannot be decoded as ${descriptor.Charset} (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const state: PlainState = {};
  const pieces: string[] = [];
  let [bytes, lines, cut, read] = [0, 0, false, 0];
  for await (const plain of plainBytesOf(chunks, descriptor.FileCompression, state, (n) => (read += n) <= limits.bytes)) {
    const piece = plain.subarray(0, limits.bytes - bytes);
    bytes += piece.length;
    const text = decoder.decode(piece, { stream: true });
    pieces.push(text);
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) lines++;
    // Leaving the loop stops the inflating and closes the file.
    if (bytes >= limits.bytes || lines >= limits.lines) {
      cut = true;
      break;
    }
  }
  if (state.detail) throw new UnreadableFile(state.detail);
  cut ||= state.cut === true;
  const text = pieces.join("");
  // A line the limits cut is not part of the head.
  return { text: cut ? text.slice(0, text.lastIndexOf("\n") + 1) : text + decoder.decode(), gzipped: state.gzipped === true, cut };
}

type CsvOptions = NonNullable<FileFormatDescriptor["CsvFormatDescriptor"]>;

interface CsvRecordInfo {
  record: string[];
  info: { lines: number; records: number };
}

/**
 * csv-parse's options for a metric set's CSV descriptor; an unreadable record goes to
 * `skipped`. A quote inside a field or after a closing one is kept as a character
 * (`relax_quotes`): one stray quote otherwise opened a field that ran to the end of the file,
 * losing every row after it. A record is given up at MAX_RECORD_SIZE and reported once;
 * csv-parse reads nothing after it, so a reader that goes on (`gaveUp`, streamCsv) starts a
 * parser of its own at the next line, and the whole-file reader stops there. Lines may end in
 * CRLF, LF or CR alone, mixed: csv-parse otherwise takes the first line's ending for the whole
 * file, and a file with a CRLF header and LF rows (two exports joined) read as one row; a file
 * whose lines end in CR alone (a spreadsheet's "CSV (Macintosh)") was read as a header of
 * every cell and no row, nothing said.
 */
function csvParseOptions(options: CsvOptions, skipped: (m: { line: number; raw: string; detail: string }) => void, gaveUp?: (line: number) => void): CsvParseOptions {
  /** Records read when the parser last gave up on a record too long, if it did. */
  let givenUpAfter = -1;
  return {
    delimiter: options.Delimiter ?? ",",
    record_delimiter: ["\r\n", "\n", "\r"],
    quote: options.QuoteSymbol === "" ? false : (options.QuoteSymbol ?? '"'),
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_SIZE,
    bom: true,
    info: true,
    on_skip: (err: { code?: string; message: string; lines?: number; records?: number } | undefined) => {
      const line = err?.lines ?? 1;
      if (err?.code !== "CSV_MAX_RECORD_SIZE") return skipped({ line, raw: "", detail: err?.message ?? "unreadable CSV record" });
      // The parser gives up on such a record again at every MAX_RECORD_SIZE it reads of it: one report.
      if (err.records === givenUpAfter) return;
      givenUpAfter = err.records ?? -1;
      const after = gaveUp ? "reading goes on at the next line" : "the rest of the file is not read";
      skipped({ line, raw: "", detail: `a record longer than ${MAX_RECORD_SIZE} bytes (a quote not closed?): ${after}` });
      gaveUp?.(line);
    },
  } as CsvParseOptions;
}

/** A CSV header's column names, and where it names one more than once, the places of each such name. */
interface CsvHeader {
  readonly names: readonly string[];
  readonly repeated?: readonly (readonly [string, readonly number[]])[];
}

function csvHeader(names: readonly string[]): CsvHeader {
  const places = new Map<string, number[]>();
  names.forEach((name, i) => (places.get(name) ?? places.set(name, []).get(name)!).push(i));
  const repeated = [...places].filter(([, at]) => at.length > 1);
  return repeated.length ? { names, repeated } : { names };
}

/**
 * A CSV record as a row of the header's columns. Cells past the header stay unnamed: the row
 * validator reports the width mismatch. A name the header gives two columns whose cells
 * differ in this record is listed under REPEATED_COLUMNS (the row validator refuses the row
 * when it uses that column), where the last cell was taken for it without a word.
 */
function csvRow(file: string, header: CsvHeader, { record, info }: CsvRecordInfo): RawRow {
  const fields: Record<string, unknown> = {};
  const { names } = header;
  const n = Math.min(names.length, record.length);
  for (let i = 0; i < n; i++) fields[names[i]!] = record[i];
  if (record.length > names.length) fields[EXTRA_CELLS] = record.slice(names.length);
  if (header.repeated) {
    const differing = header.repeated.filter(([, at]) => at.some((i) => i < record.length && record[i] !== record[at[0]!])).map(([name]) => name);
    if (differing.length) fields[REPEATED_COLUMNS] = differing;
  }
  return { file, line: info.lines, fields };
}

export function readCsv(file: string, text: string, options: CsvOptions): ReadResult {
  const malformed: MalformedRecord[] = [];
  const records = parse(text, csvParseOptions(options, (m) => malformed.push({ file, ...m }))) as unknown as CsvRecordInfo[];
  const hasHeader = options.ContainsHeader ?? true;
  const first = records[0];
  const names = options.HeaderList ?? (hasHeader && first ? first.record.map((c) => c.trim()) : undefined);
  if (!names) return { rows: [], malformed };
  const header = csvHeader(names);
  const body = hasHeader ? records.slice(1) : records;
  return { rows: body.map((r) => csvRow(file, header, r)), malformed };
}

/** Key under which a CSV row's cells beyond the header are kept. */
export const EXTRA_CELLS = "\u0000extra";

/** Key under which a CSV row lists the names its header gives more than one column of, whose cells differ in the row. */
export const REPEATED_COLUMNS = "\u0000repeated";

export function readJsonLines(file: string, text: string): ReadResult {
  const rows: RawRow[] = [];
  const malformed: MalformedRecord[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (!raw.trim()) return;
    const read = readJsonLine(file, i + 1, raw);
    if ("fields" in read) rows.push(read);
    else malformed.push(read);
  });
  return { rows, malformed };
}

/** What opening a file costs a ReadBudget, however few bytes it holds: a request of its own (an S3 GET), so thousands of tiny files cannot be read for nothing. */
export const FILE_READ_COST = 16 * 1024;

/**
 * The bytes a read of several files may take in all, each file counted as read: the larger of
 * its bytes (compressed, when GZIP) and of what they inflate to, and FILE_READ_COST more for
 * opening it. A file is not read past it, so a small GZIP that inflates without end, one of
 * endless empty members that inflates to nothing, a huge file or a swarm of tiny ones costs
 * what the budget allows and no more.
 */
export class ReadBudget {
  #spent = 0;
  constructor(readonly bytes: number) {}
  /** Spends `n` bytes; false once the read has gone past the budget. */
  take(n: number): boolean {
    this.#spent += n;
    return this.#spent <= this.bytes;
  }
  get exceeded(): boolean {
    return this.#spent > this.bytes;
  }
  /** Bytes spent past the budget (0 within it). */
  get over(): number {
    return Math.max(0, this.#spent - this.bytes);
  }
}

/**
 * What one file costs its budget as it is read: the larger of its bytes read and of what they
 * inflate to, charged as either grows.
 */
class FileCost {
  #read = 0;
  #inflated = 0;
  #charged = 0;
  constructor(readonly budget: ReadBudget) {}
  /** `n` more bytes taken from the file (a little ahead of their inflating); false once the budget is spent. */
  read(n: number): boolean {
    this.#read += n;
    return this.#charge();
  }
  /** `n` more bytes inflated (all of the file's bytes, when not GZIP); false once the budget is spent. */
  inflated(n: number): boolean {
    this.#inflated += n;
    return this.#charge();
  }
  /**
   * Whether the file may be read on: within the budget, or by less than a record past it, so
   * that the line the budget fell in may be read to its end (budgeted).
   */
  readOn(n: number): boolean {
    return this.read(n) || this.budget.over <= MAX_RECORD_SIZE;
  }
  #charge(): boolean {
    const cost = Math.max(this.#read, this.#inflated);
    const within = this.budget.take(cost - this.#charged);
    this.#charged = cost;
    return within;
  }
}

/** One thing read from a file: a row, or a record that could not be read as one. */
export type ReadItem = { readonly row: RawRow } | { readonly malformed: MalformedRecord };

/**
 * Reads a file as its bytes arrive, in batches of records (those of each piece read), in
 * file order: what readRecords answers for the whole file, with no more of the file in
 * memory than the piece being read. GZIP (declared, or told by its first bytes) is inflated as it streams. Nothing
 * throws: an unreadable record is yielded with its line, and a file that stops being
 * readable (a truncated GZIP stream, a `budget` spent) as one record at line 0, after the
 * rows read before.
 */
export async function* streamRecords(file: string, chunks: AsyncIterable<Uint8Array>, format: FileFormatDescriptor | undefined, budget?: ReadBudget): AsyncGenerator<ReadItem[]> {
  const json = format?.JsonFormatDescriptor;
  const csv = format?.CsvFormatDescriptor ?? {};
  const descriptor = json ?? csv;
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(descriptor.Charset ?? "utf-8");
  } catch (e) {
    yield [unreadable(file, `cannot be decoded as ${descriptor.Charset} (${e instanceof Error ? e.message : String(e)})`)];
    return;
  }
  const failure: PlainState = {};
  const cost = budget && new FileCost(budget);
  const plain = budgeted(plainBytesOf(chunks, descriptor.FileCompression, failure, cost && ((n) => cost.readOn(n))), cost, failure, decoder.encoding);
  // A read cut within a line leaves that line's start unread as a row.
  const cut = () => failure.cutInLine === true;
  // UTF-8 CSV goes to csv-parse as bytes (it decodes each field): decoding the file first only for csv-parse to encode it again cost a tenth of reading it.
  if (json) yield* streamJsonLines(file, decoded(plain, decoder), cut);
  else yield* streamCsv(file, decoder.encoding === "utf-8" ? utf8ForCsv(plain, decoder) : decoded(plain, decoder), csv, cut);
  if (failure.detail) yield [unreadable(file, failure.detail)];
}

const unreadable = (file: string, detail: string): ReadItem => ({ malformed: { file, line: 0, raw: "", detail: `unreadable file: ${detail}` } });

/**
 * The bytes as they arrive until the budget is spent: then they end (which stops the file's
 * read and its inflating), and `state` says why. The line the budget falls in is read to its
 * end, so that its start is not taken for a whole row; one longer than MAX_RECORD_SIZE is cut
 * there, its line unended (the CSV records of a file whose lines end in CR alone, which no LF
 * ends, are read up to there, the one cut not). A GZIP file read on by more than that past the
 * budget (empty members, which inflate to nothing) was cut by plainBytesOf, its line unended.
 */
async function* budgeted(plain: AsyncGenerator<Uint8Array>, cost: FileCost | undefined, state: PlainState, encoding = "utf-8"): AsyncGenerator<Uint8Array> {
  if (!cost) return yield* plain;
  const lines = lineEnds(encoding);
  let read = 0;
  let past: number | undefined;
  const spent = () => `read no further than the line at byte ${read}: the files read at once may hold ${cost.budget.bytes} bytes in all, as read (compressed or inflated, whichever is more)`;
  for await (const piece of plain) {
    if (past === undefined) {
      if (cost.inflated(piece.length)) {
        lines.saw(piece);
        read += piece.length;
        yield piece;
        continue;
      }
      state.detail = spent();
      if (lines.atEnd()) return;
      past = 0;
    }
    const end = lines.end(piece);
    const rest = end >= 0 ? piece.subarray(0, end) : piece.subarray(0, MAX_RECORD_SIZE + 1 - past);
    lines.saw(rest);
    past += rest.length;
    yield rest;
    if (end >= 0) return;
    if (past > MAX_RECORD_SIZE) return void (state.cutInLine = true);
  }
  // Spent by bytes that inflated to nothing: no piece came to say so.
  if (cost.budget.exceeded) state.detail ??= spent();
  if (state.cut && !lines.atEnd()) state.cutInLine = true;
}

/**
 * Where lines end in a file's bytes as they arrive: at a 0A byte, or in UTF-16 at a newline
 * code unit (0A 00, or 00 0A big-endian) on a code unit's boundary, which may fall between
 * two pieces.
 */
function lineEnds(encoding: string) {
  const wide = encoding === "utf-16le" || encoding === "utf-16be";
  const [first, second] = encoding === "utf-16be" ? [0x00, 0x0a] : [0x0a, 0x00];
  let offset = 0;
  let last = -1;
  let beforeLast = -1;
  return {
    /** The bytes were passed on. */
    saw(piece: Uint8Array): void {
      if (piece.length >= 2) [beforeLast, last] = [piece[piece.length - 2]!, piece[piece.length - 1]!];
      else if (piece.length === 1) [beforeLast, last] = [last, piece[0]!];
      offset += piece.length;
    },
    /** Those passed on end a line (or none was). */
    atEnd(): boolean {
      if (offset === 0) return true;
      return wide ? offset % 2 === 0 && beforeLast === first && last === second : last === 0x0a;
    },
    /** Just past the first line end in `piece` (which follows those passed on), or -1. */
    end(piece: Uint8Array): number {
      if (!wide) {
        const i = piece.indexOf(0x0a);
        return i < 0 ? -1 : i + 1;
      }
      for (let i = (offset + 1) % 2; i < piece.length; i += 2) if ((i === 0 ? last : piece[i - 1]) === first && piece[i] === second) return i + 1;
      return -1;
    },
  };
}

/**
 * What reading a file's bytes found: whether it was GZIP, why a GZIP stream broke (which ends
 * the bytes), whether the reader's `reading` cut them short, and then whether within a line.
 */
interface PlainState {
  gzipped?: boolean;
  detail?: string;
  cut?: boolean;
  cutInLine?: boolean;
}

/**
 * The file's bytes as they arrive, inflated when GZIP; a GZIP stream that breaks ends them,
 * and says why in `state`. A reader that stops early (returns) stops the inflating and the
 * file's stream with it. A GZIP file's bytes are told to `reading` as they are read, before
 * they are inflated: once it answers false, they end there (`state.cut`), as what they
 * inflate to (nothing, for empty members or a header) cannot stop them.
 */
async function* plainBytesOf(chunks: AsyncIterable<Uint8Array>, compression: "NONE" | "GZIP" | undefined, state: PlainState, reading?: (n: number) => boolean): AsyncGenerator<Uint8Array> {
  const { head, rest } = await peeked(chunks, 2);
  const gzipped = compression === "GZIP" || (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]);
  if (!gzipped) {
    yield* rest;
    return;
  }
  state.gzipped = true;
  const gunzip = createGunzip();
  const feeding = (async () => {
    const source = rest[Symbol.asyncIterator]();
    try {
      for (let next = await source.next(); !next.done && !gunzip.destroyed; next = await source.next()) {
        // Ended here, what was taken in is still inflated; the end within a member that zlib then finds is not the file's fault (state.cut).
        if (reading && !reading(next.value.length)) {
          state.cut = true;
          break;
        }
        if (!gunzip.write(next.value)) await drainedOrClosed(gunzip);
      }
      if (!gunzip.destroyed) gunzip.end();
    } catch (e) {
      gunzip.destroy(e instanceof Error ? e : new Error(String(e)));
    } finally {
      // Closes the file's stream when the inflating stopped before its end.
      await source.return?.();
    }
  })();
  try {
    for await (const plain of gunzip) yield plain as Buffer;
  } catch (e) {
    // The file's own stream failing (a system error naming a server path) breaks the inflating too: its detail reaches the tenant (rejects, a sample refused).
    if (!state.cut) state.detail = `not a readable GZIP file (${messageForTenant(e)})`;
  } finally {
    gunzip.destroy();
    await feeding;
  }
}

/** Resolves when the stream can take more, or is closed (destroyed by a reader that stopped). */
const drainedOrClosed = (stream: Gunzip) =>
  new Promise<void>((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
  });

/**
 * A UTF-8 file's bytes for csv-parse as they arrive; decoded here instead when it starts like
 * UTF-16 (FF FE or FE FF), which csv-parse would take as a byte order mark and read as UTF-16.
 */
async function* utf8ForCsv(pieces: AsyncIterable<Uint8Array>, decoder: InstanceType<typeof TextDecoder>): AsyncGenerator<string | Uint8Array> {
  const { head, rest } = await peeked(pieces, 2);
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  yield* utf16 ? decoded(rest, decoder) : rest;
}

/** The first `n` bytes or more (pieces too short to tell are joined; fewer when the file ends), and every piece from its start on. */
async function peeked(pieces: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const it = pieces[Symbol.asyncIterator]();
  const first: Uint8Array[] = [];
  let length = 0;
  while (length < n) {
    const next = await it.next();
    if (next.done) break;
    first.push(next.value);
    length += next.value.length;
  }
  const head = first.length === 1 ? first[0]! : Buffer.concat(first);
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      let ended = false;
      try {
        if (head.length) yield head;
        for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
        ended = true;
      } finally {
        // A reader that stopped early closes the pieces' source (a file's stream) with it.
        if (!ended) await it.return?.();
      }
    },
  };
  return { head, rest };
}

/** Text from bytes as they arrive (a character cut between two pieces is joined). */
async function* decoded(pieces: AsyncIterable<Uint8Array>, decoder: InstanceType<typeof TextDecoder>): AsyncGenerator<string> {
  for await (const piece of pieces) yield decoder.decode(piece, { stream: true });
  const tail = decoder.decode();
  if (tail) yield tail;
}

/**
 * csv-parse's stream, each record tagged as it is made with the line it ended on and how many
 * records came before: what the `info` option gives, without a copy of the parser's whole
 * state per record (a fifth of the time of reading a large file).
 */
class LinedParser extends Parser {
  /** Lines of the file before this parser's first (one started again after a record given up). */
  lineOffset = 0;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    return super.push(chunk === null ? null : ({ record: chunk as string[], info: { lines: this.info.lines + this.lineOffset, records: this.info.records } } satisfies CsvRecordInfo), encoding);
  }
}

/** Bytes written to csv-parse at once at most: a record it gives up on (MAX_RECORD_SIZE) then began in an earlier piece, so the piece's first line break ends it, when it is not quoted. */
const CSV_PIECE = 256 * 1024;

/** Where the line after the first line break of `piece` starts, or −1. */
function afterFirstLineBreak(piece: string | Uint8Array): number {
  const [lf, cr] = typeof piece === "string" ? [piece.indexOf("\n"), piece.indexOf("\r")] : [piece.indexOf(10), piece.indexOf(13)];
  if (cr >= 0 && (lf < 0 || cr < lf)) return cr + (lf === cr + 1 ? 2 : 1);
  return lf < 0 ? -1 : lf + 1;
}

/** Byte pieces no larger than CSV_PIECE (text pieces are a decoded chunk each, already small). */
function* csvPieces(piece: string | Uint8Array): Generator<string | Uint8Array> {
  if (typeof piece === "string" || piece.length <= CSV_PIECE) yield piece;
  else for (let at = 0; at < piece.length; at += CSV_PIECE) yield piece.subarray(at, at + CSV_PIECE);
}

/**
 * CSV records as each piece of text is parsed, in batches: a piece's records are taken from
 * the parser at once (one await per piece, not per record, which cost more than parsing).
 * Records that could not be read are put back in their place among the rows.
 */
async function* streamCsv(file: string, text: AsyncIterable<string | Uint8Array>, options: CsvOptions, cut: () => boolean = () => false): AsyncGenerator<ReadItem[]> {
  /** Unreadable records, each with how many records the parser had given before it. */
  const skipped: { before: number; malformed: MalformedRecord }[] = [];
  /** The file line a record was given up at, by the parser now reading, or 0. */
  let gaveUpAt = 0;
  const parserFrom = (lineOffset: number) => {
    const made: LinedParser = new LinedParser({
      ...csvParseOptions(
        options,
        (m) => skipped.push({ before: made.info.records, malformed: { file, ...m, line: m.line + lineOffset } }),
        (line) => (gaveUpAt = line + lineOffset),
      ),
      info: false,
    });
    made.lineOffset = lineOffset;
    return made;
  };
  let parser = parserFrom(0);
  /** Passing over the rest of a record given up, to the next line break. */
  let passingOver = false;
  const hasHeader = options.ContainsHeader ?? true;
  let header = options.HeaderList && csvHeader(options.HeaderList);
  let skipHeader = hasHeader;
  let batch: ReadItem[] = [];
  const skippedBefore = (records: number) => {
    let n = 0;
    while (n < skipped.length && skipped[n]!.before < records) batch.push({ malformed: skipped[n++]!.malformed });
    skipped.splice(0, n);
  };
  const take = (record: CsvRecordInfo) => {
    skippedBefore(record.info.records);
    if (skipHeader) {
      skipHeader = false;
      header ??= csvHeader(record.record.map((c) => c.trim()));
    } else if (header) batch.push({ row: csvRow(file, header, record) });
  };
  /** Writes a piece to the parser and takes what it made: the parser works as it is written to. */
  const written = (t: string | Uint8Array) => {
    parser.write(t);
    for (let r = parser.read() as CsvRecordInfo | null; r !== null; r = parser.read() as CsvRecordInfo | null) take(r);
    // Every record made so far is taken: what could not be read is reported now, not when a record next comes.
    skippedBefore(Infinity);
  };
  const taken = () => {
    const out = batch;
    batch = [];
    return out;
  };
  for await (const whole of text)
    for (let t of csvPieces(whole)) {
      if (passingOver) {
        const next = afterFirstLineBreak(t);
        if (next < 0) continue;
        [passingOver, t] = [false, t.slice(next)];
      }
      written(t);
      if (gaveUpAt !== 0) {
        // csv-parse reads nothing after a record it gave up: a parser of its own reads on from the line after it.
        [parser, gaveUpAt] = [parserFrom(gaveUpAt), 0];
        const next = afterFirstLineBreak(t);
        if (next < 0) passingOver = true;
        else written(t.slice(next));
      }
      if (batch.length) yield taken();
    }
  // The record the text was cut in is not whole: it is not read.
  if (cut()) return;
  parser.end();
  for await (const record of parser as AsyncIterable<CsvRecordInfo>) take(record);
  skippedBefore(Infinity);
  if (batch.length) yield taken();
}

/** JSON Lines as each piece of text arrives. A line longer than MAX_RECORD_SIZE is reported when it grows past it, and the rest of it passed over. */
async function* streamJsonLines(file: string, text: AsyncIterable<string>, cut: () => boolean = () => false): AsyncGenerator<ReadItem[]> {
  let rest = "";
  let line = 0;
  let passingOver = false;
  const item = (raw: string): ReadItem | undefined => {
    line++;
    if (!raw.trim()) return undefined;
    const read = readJsonLine(file, line, raw);
    return "fields" in read ? { row: read } : { malformed: read };
  };
  for await (const t of text) {
    let piece = t;
    if (passingOver) {
      const end = piece.indexOf("\n");
      if (end < 0) continue;
      passingOver = false;
      piece = piece.slice(end + 1);
    }
    const lines = (rest + piece).split("\n");
    rest = lines.pop()!;
    const batch: ReadItem[] = [];
    for (const l of lines) {
      const it = item(l.endsWith("\r") ? l.slice(0, -1) : l);
      if (it) batch.push(it);
    }
    if (rest.length > MAX_RECORD_SIZE) {
      batch.push(item(rest)!);
      [rest, passingOver] = ["", true];
    }
    if (batch.length) yield batch;
  }
  // The line the text was cut in is not whole: it is not read.
  const last = passingOver || cut() ? undefined : item(rest);
  if (last) yield [last];
}

function readJsonLine(file: string, line: number, raw: string): RawRow | MalformedRecord {
  if (raw.length > MAX_RECORD_SIZE) return { file, line, raw: raw.slice(0, 2000), detail: `a line longer than ${MAX_RECORD_SIZE} characters: not read` };
  try {
    const value: unknown = JSON.parse(raw);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("a JSON line must be an object");
    return { file, line, fields: value as Record<string, unknown> };
  } catch (e) {
    return { file, line, raw: raw.slice(0, 2000), detail: e instanceof Error ? e.message : String(e) };
  }
}
