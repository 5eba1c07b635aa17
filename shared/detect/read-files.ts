import { Aggregator, type AggregateOptions, type Aggregation } from "../ingest/aggregate.ts";
import { RejectKeeper, type RejectEntry, type RejectLimits } from "../ingest/rejects.ts";
import type { RejectReason } from "../ingest/rows.ts";
import { CANONICAL_TIMESTAMP, effectiveSource } from "../ingest/canonical.ts";
import { isTemplated, renderTemplate, templateInterval } from "../model/path-template.ts";
import { datesInZone, intervalNamed, templateZone } from "../model/interval-time.ts";
import { FILE_READ_COST, ReadBudget, streamRecords, type ReadItem } from "../ingest/readers.ts";
import { classifyRow, malformedReject, rowSpecOf } from "../ingest/rows.ts";
import { rowTimeParser } from "../ingest/timestamp.ts";
import { intervalMs } from "../model/frequency.ts";
import { L4M_QUOTAS, QUOTA_CODES } from "../model/quotas.ts";
import { ServiceQuotaExceededException } from "../model/errors.ts";
import type { FileFormatDescriptor, MetricSet } from "../model/metric-set.ts";
import type { BlobStore } from "../store/blobs.ts";
import type { HistorySpill, Spilled } from "./shard-history.ts";

/** Reading is all detection does with a metric set's files: listed, then each read as a stream. */
export type FileReader = Pick<BlobStore, "get" | "list" | "read">;

export type ReadableMetricSet = Pick<MetricSet, "MetricSource" | "TimestampColumn" | "Timezone" | "DimensionList" | "MetricList" | "DimensionFilterList" | "MetricSetFrequency">;

/** The metric set as detection reads it: a CloudWatch source is read from the canonical files ingest wrote. */
export function readableOf<M extends ReadableMetricSet>(metricSet: M, metricSetRoot: string): M {
  const source = effectiveSource(metricSet, metricSetRoot);
  return metricSet.MetricSource.S3SourceConfig || !source ? metricSet : { ...metricSet, MetricSource: { S3SourceConfig: source }, TimestampColumn: CANONICAL_TIMESTAMP };
}

/** A read its signal stopped: how far it had got (files begun, rows read). */
export class ReadStopped extends Error {
  override readonly name = "ReadStopped";
  constructor(readonly files: number, readonly rows: number) {
    super(`the read was stopped after ${rows} rows of ${files} files`);
  }
}

/** An aggregation, and whether its files held more bytes than the read was given (it stopped there). */
export type ReadAggregation = Aggregation & { readonly overBudget: boolean };

export type ReadOptions = Omit<AggregateOptions, "intervalMs"> & {
  readonly signal?: AbortSignal;
  /** The most bytes all the files may take, as read (inflated; each file FILE_READ_COST more): the file that goes past is reported unreadable from there, and no further file is read. */
  readonly maxBytes?: number;
  /** A budget shared with other reads (one request's), instead of `maxBytes`. */
  readonly budget?: ReadBudget;
  /** The most (series, interval) cells the aggregate may hold: past it, the read ends with ReadTooLarge. */
  readonly maxCells?: number;
  /** What opening a file costs the budget beside its bytes (FILE_READ_COST unless told). */
  readonly fileCost?: number;
};

/** A read whose aggregate grew past the cells it was given: how far it had got. */
export class ReadTooLarge extends Error {
  override readonly name = "ReadTooLarge";
  constructor(
    readonly files: number,
    readonly rows: number,
    readonly cells: number,
  ) {
    super(`the files hold more than ${cells} values (series × intervals); ${rows} rows of ${files} files were read`);
  }
}

/**
 * Reads every file under the given addresses and aggregates their rows as they stream in:
 * memory holds the aggregate, never a whole file or its rows. A file that cannot be read
 * is reported, not thrown. `signal` (a back-test's stop) is looked at before each file and
 * each piece of one read: once aborted, the read ends with ReadStopped.
 */
export async function readAndAggregate(blobs: FileReader, metricSet: ReadableMetricSet, prefixes: readonly string[], options: ReadOptions = {}): Promise<ReadAggregation> {
  const { signal, maxBytes, budget: shared, maxCells, fileCost, ...aggregate } = options;
  const budget = shared ?? (maxBytes === undefined ? undefined : new ReadBudget(maxBytes));
  const format = metricSet.MetricSource.S3SourceConfig?.FileFormatDescriptor;
  const spec = rowSpecOf(metricSet, rowTimeParser(metricSet));
  const aggregator = new Aggregator(spec, { ...aggregate, intervalMs: intervalMs(metricSet.MetricSetFrequency) });
  const listed = { files: 0, rows: 0 };
  for await (const batch of recordsUnder(blobs, prefixes, format, listed, signal, budget, false, fileCost)) {
    if (signal?.aborted) throw new ReadStopped(listed.files, listed.rows);
    listed.rows += batch.length;
    for (const item of batch) {
      if ("row" in item) aggregator.add(item.row);
      else aggregator.malformed(item.malformed);
    }
    if (maxCells !== undefined && aggregator.cells > maxCells) throw new ReadTooLarge(listed.files, listed.rows, maxCells);
  }
  return { ...aggregator.finish(listed.files), overBudget: budget?.exceeded === true };
}

/** Every record of the files under the given addresses, file by file as each streams in, in batches; `listed` counts the files found (and `signal`, once aborted, stops it before the next; a `budget` spent, without a word). `latestFirst`: each address's files in reverse order of their paths. `skipped`: files passed over unread, before the budget is charged. */
async function* recordsUnder(blobs: FileReader, prefixes: readonly string[], format: FileFormatDescriptor | undefined, listed: { files: number; rows?: number }, signal?: AbortSignal, budget?: ReadBudget, latestFirst = false, fileCost = FILE_READ_COST, skipped?: (file: string) => boolean): AsyncGenerator<ReadItem[]> {
  for (const prefix of prefixes) {
    const files = await blobs.list(prefix);
    if (latestFirst) files.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    for (const file of files) {
      if (signal?.aborted) throw new ReadStopped(listed.files, listed.rows ?? 0);
      if (skipped?.(file)) continue;
      if (budget && !budget.take(fileCost)) return;
      listed.files++;
      const bytes = await blobs.read(file);
      if (bytes) yield* streamRecords(file, bytes, format, budget);
    }
  }
}

/**
 * Hands every usable row of the files under the given addresses to `visit` as it is read,
 * keeping none (files are streamed): how history is spilled shard by shard. Rows that cannot
 * be used, and the unusable measures of partial rows, are counted, and kept in `rejects`
 * when given (within its limits). Within a `budget`, reading stops where it is spent
 * (`overBudget`).
 */
export async function visitRows(blobs: FileReader, metricSet: ReadableMetricSet, prefixes: readonly string[], visit: (timestamp: number, dimensions: readonly string[], values: readonly (number | undefined)[], seriesKey: string) => void | Promise<void>, budget?: ReadBudget, latestFirst = false, rejects?: RejectKeeper, skipped?: (file: string) => boolean): Promise<RowsVisited> {
  const format = metricSet.MetricSource.S3SourceConfig?.FileFormatDescriptor;
  const spec = rowSpecOf(metricSet, rowTimeParser(metricSet));
  const listed = { files: 0 };
  let rows = 0;
  let rejected = 0;
  let partial = 0;
  let malformed = 0;
  let firstRejected: RowsVisited["firstRejected"];
  for await (const batch of recordsUnder(blobs, prefixes, format, listed, undefined, budget, latestFirst, FILE_READ_COST, skipped)) {
    for (const item of batch) {
      if (!("row" in item)) {
        rejected++;
        malformed++;
        firstRejected ??= item.malformed;
        rejects?.add(malformedReject(item.malformed));
        continue;
      }
      rows++;
      const verdict = classifyRow(item.row, spec);
      if (!verdict.ok) {
        rejected++;
        firstRejected ??= verdict.rejected;
        rejects?.add(verdict.rejected);
        continue;
      }
      if (verdict.problems.length) {
        partial++;
        for (const p of verdict.problems) rejects?.add(p);
      }
      const wrote = visit(verdict.timestamp, verdict.dimensions, verdict.values, verdict.seriesKey);
      if (wrote) await wrote;
    }
  }
  return { files: listed.files, rows, malformed, rejected, partial, overBudget: budget?.exceeded === true, ...(firstRejected ? { firstRejected } : {}) };
}

/** What visitRows read: files begun, rows, records that could not be read (`malformed`: rejected, not rows), rows with an unusable measure, and the first reject. */
export interface RowsVisited {
  readonly files: number;
  readonly rows: number;
  readonly malformed: number;
  readonly rejected: number;
  readonly partial: number;
  readonly overBudget: boolean;
  readonly firstRejected?: { readonly file: string; readonly line: number; readonly detail: string };
}

/**
 * What the read of a history its owner named held, beside what it taught: the rows read,
 * rejected (each kept in `rejects` with its reason, within REJECT_LIMITS, then counted) or
 * partial, and those not learned for their time: older than a history reaches, or of
 * intervals still to come (live data, learned as it is detected).
 */
export interface HistoryRead {
  readonly files: number;
  readonly rowsRead: number;
  readonly rowsRejected: number;
  readonly rowsPartial: number;
  readonly rejectsByReason: Record<RejectReason, number>;
  readonly rejectsNotKept: number;
  readonly rowsBeforeReach: number;
  readonly rowsAhead: number;
  /** Epoch ms: the first interval a history reaches. */
  readonly reach: number;
  readonly rejects: readonly RejectEntry[];
}

/** The most a history may hold: bytes as read (inflated; each file FILE_READ_COST more), time series, and characters of its series' keys (held in memory while it is read). */
export interface HistoryLimits {
  readonly bytes: number;
  readonly series: number;
  readonly keyChars: number;
}

/**
 * A metric set's templated live folder, and the interval a file of it holds (undefined for a
 * file the template does not name); undefined without a template.
 */
export function templatedIntervals(metricSet: ReadableMetricSet): { readonly template: string; readonly intervalOf: (file: string) => number | undefined } | undefined {
  const template = metricSet.MetricSource.S3SourceConfig?.TemplatedPathList?.[0];
  if (!template) return undefined;
  const len = intervalMs(metricSet.MetricSetFrequency);
  const named = templateInterval(template, templateZone(metricSet));
  return {
    template,
    intervalOf: (file) => {
      const t = named(file);
      // A template coarser than the frequency (a daily folder of hourly data) names the first interval of its span.
      return t === undefined ? undefined : Math.floor(t / len) * len;
    },
  };
}

/**
 * The live folder's files whose templated interval starts at or after `before`: a history read
 * there passes over them unread, as their rows would not be learned (a model learned again is
 * learned up to where detection had got to, and the intervals after it are detected), so that
 * they do not spend the read's budget before the history's own files.
 */
function notBefore(metricSet: ReadableMetricSet, before: number): ((file: string) => boolean) | undefined {
  const live = templatedIntervals(metricSet);
  return live && ((file) => (live.intervalOf(file) ?? -Infinity) >= before);
}

/** A history read latest first, stopped at its limits: what was read is learned. */
class HistoryFull extends Error {}

/**
 * Reads a metric set's history into `spill` within its limits: reading stops at the first
 * row past any. A history its own paths name (HistoricalDataPathList) is then refused
 * (ServiceQuotaExceededException) rather than learned in part, since what was read need not
 * be its latest part. One read from the live files' folder (without such paths, as L4M
 * looked back there) is read latest first, its files in reverse order of their paths (the
 * templated folders name their time, year first), and what was read, its latest part, is
 * learned: that folder grows with every interval, and would otherwise be refused once it had
 * (at PT1M, 8,192 files cost BytesPerHistory's 128 MiB at 16 KiB a file: under six days).
 * Answers what was spilled, with its `last` latest intervals' starts.
 */
export async function spillHistory(reader: FileReader, metricSet: ReadableMetricSet & Pick<MetricSet, "MetricSetArn" | "MetricSetName">, prefixes: readonly string[], spill: HistorySpill, limits: HistoryLimits, last: number): Promise<Spilled & { readonly unusable?: string; readonly read?: HistoryRead }> {
  const budget = new ReadBudget(limits.bytes);
  const latestFirst = !metricSet.MetricSource.S3SourceConfig?.HistoricalDataPathList?.length;
  // A named history's rejects are its own to report; the live folder's are each interval's, kept as it is detected.
  const rejects = latestFirst ? undefined : new RejectKeeper();
  const refused = (what: string, quotaCode: string) => (latestFirst ? new HistoryFull() : historyRefused(metricSet, what, quotaCode));
  const read = await visitRows(
    reader,
    metricSet,
    prefixes,
    (timestamp, dimensions, values, seriesKey) => {
      // Latest first, a row that would bring a series past the limits ends the read before it is held.
      if (latestFirst && (spill.series >= limits.series || spill.keyChars > limits.keyChars) && !spill.holds(seriesKey)) throw new HistoryFull();
      spill.add(timestamp, dimensions, values, seriesKey);
      // Checked per row, as a row may bring a series: the keys held are what a history of endless new series would grow.
      if (spill.series > limits.series) throw refused(`more than ${limits.series} time series, twice the quota`, QUOTA_CODES.seriesPerMetricSet);
      // A series' dimension values may hold 8,192 characters: within the bytes, twice the series quota of them would hold gigabytes.
      if (spill.keyChars > limits.keyChars) throw refused(`more than ${limits.keyChars} characters of dimension values, a sixteenth of the quota`, QUOTA_CODES.bytesPerHistory);
      return spill.full ? spill.flush() : undefined;
    },
    budget,
    latestFirst,
    rejects,
    latestFirst ? notBefore(metricSet, spill.before) : undefined,
  ).catch((e: unknown) => {
    if (e instanceof HistoryFull) return undefined;
    throw e;
  });
  if (read?.overBudget && !latestFirst) throw historyRefused(metricSet, `more than ${limits.bytes} bytes as read (inflated, ${FILE_READ_COST} more a file), the quota`, QUOTA_CODES.bytesPerHistory);
  const spilled = await spill.finish(last);
  if (!read || !rejects) return spilled;
  const unusable = whyNothingLearned(read, spill, spilled.intervals);
  const report: HistoryRead = {
    files: read.files,
    // Read as an interval counts them: a record that could not be read is a row read and rejected.
    rowsRead: read.rows + read.malformed,
    rowsRejected: read.rejected,
    rowsPartial: read.partial,
    rejectsByReason: rejects.rejectsByReason,
    rejectsNotKept: rejects.notKeptCount,
    rowsBeforeReach: spill.tooOld,
    rowsAhead: spill.ahead,
    reach: spill.from,
    rejects: [...rejects.rows, ...rejects.notKeptSummaries],
  };
  return { ...spilled, read: report, ...(unusable ? { unusable } : {}) };
}

/**
 * Why a history its own paths name gave nothing to learn, if it gave nothing for a reason
 * its owner can fix: no file there (a path mistyped), every record or row rejected (a wrong
 * TimestampColumn or format), or every row older than a history reaches. Files of a header
 * alone, and rows of intervals still to come, are not such a reason: live data is learned.
 */
export function whyNothingLearned(read: RowsVisited, spilled: Pick<HistorySpill, "tooOld" | "ahead" | "from">, intervals: number): string | undefined {
  if (intervals > 0 || spilled.ahead > 0) return undefined;
  if (read.files === 0) return "no file is under its HistoricalDataPathList";
  const first = read.firstRejected && `the first, line ${read.firstRejected.line} of ${read.firstRejected.file}: ${read.firstRejected.detail}`;
  // Files of a header alone: a history with nothing in it yet, which live data teaches instead.
  if (read.rows === 0 && !first) return undefined;
  if (read.rows === 0) return `its ${read.files} file(s) hold no readable row (${first})`;
  // Nothing learned and nothing ahead: every row was rejected or too old.
  if (spilled.tooOld === 0) return `none of its ${read.rows} rows could be used (${first ?? "each was rejected"})`;
  return `its ${spilled.tooOld} usable rows are all before ${new Date(spilled.from).toISOString()}, as far back as a history is learned`;
}

const historyRefused = (metricSet: Pick<MetricSet, "MetricSetArn" | "MetricSetName">, what: string, quotaCode: string) =>
  new ServiceQuotaExceededException(`ServiceQuotaExceeded ${quotaCode}: the history of ${metricSet.MetricSetName} holds ${what}; it was not learned`, metricSet.MetricSetArn, "MetricSet", quotaCode);

/** The folder of one interval's files: the templated path rendered for its start. */
export function intervalFolder(metricSet: ReadableMetricSet, intervalStart: number): string | undefined {
  const template = metricSet.MetricSource.S3SourceConfig?.TemplatedPathList?.[0];
  if (!template) return undefined;
  const rendered = renderTemplate(template, intervalStart, templateZone(metricSet));
  return isTemplated(template) && !rendered.endsWith("/") ? `${rendered}/` : rendered;
}

/**
 * One interval's files, read up to `maxBytes` in all (L4M_QUOTAS' for its frequency unless
 * told), or within a `budget` shared with other reads; `rejectLimits` bounds the rejects
 * kept (REJECT_LIMITS unless told).
 */
export function readInterval(blobs: FileReader, metricSet: ReadableMetricSet, intervalStart: number, options: { readonly rejectLimits?: RejectLimits; readonly maxBytes?: number; readonly budget?: ReadBudget } = {}): Promise<ReadAggregation> {
  const folder = intervalFolder(metricSet, intervalStart);
  const len = intervalMs(metricSet.MetricSetFrequency);
  const { rejectLimits, budget, maxBytes = L4M_QUOTAS.bytesPerInterval[metricSet.MetricSetFrequency] } = options;
  const named = datesInZone(metricSet) ? { named: intervalNamed(metricSet, intervalStart) } : {};
  return readAndAggregate(blobs, metricSet, folder ? [folder] : [], { window: { from: intervalStart, to: intervalStart + len, ...named }, ...(budget ? { budget } : { maxBytes }), ...(rejectLimits ? { rejectLimits } : {}) });
}

export function readHistory(blobs: FileReader, metricSet: ReadableMetricSet): Promise<Aggregation> {
  return readAndAggregate(blobs, metricSet, metricSet.MetricSource.S3SourceConfig?.HistoricalDataPathList ?? []);
}
