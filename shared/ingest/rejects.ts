import { REJECT_REASONS, type RejectReason, type RejectedRow } from "./rows.ts";

/**
 * How much of one read's rejected rows (one interval's, one back-test's) is kept with its
 * fields: a file of bad rows is not held in memory whole. Past `rows` kept or `bytes` of them
 * (as JSON), the rest are counted per file and reason; past `summaries` such counts, per
 * reason alone.
 */
export interface RejectLimits {
  readonly rows: number;
  readonly bytes: number;
  readonly summaries: number;
}

/**
 * 10,000 rows are far more than a person reads to see what is wrong with a file; 8 MiB holds
 * them at 800 bytes each, or 8 rows as long as a record may be (MAX_RECORD_SIZE).
 */
export const REJECT_LIMITS: RejectLimits = { rows: 10_000, bytes: 8 * 1024 * 1024, summaries: 1_000 };

/** Where the rows of every file past the summaries' limit are counted. */
export const OTHER_FILES = "*";

/** Rejected rows past what was kept, counted: those of one file (or OTHER_FILES), one reason. */
export interface RejectsNotKept {
  readonly file: string;
  readonly reason: RejectReason;
  readonly partial: boolean;
  /** How many were not kept. */
  readonly notKept: number;
  readonly firstLine: number;
  readonly lastLine: number;
  readonly detail: string;
}

/** One line of an interval's rejects: a row kept with its fields, or a count of those that were not. */
export type RejectEntry = RejectedRow | RejectsNotKept;

export const isNotKept = (entry: RejectEntry): entry is RejectsNotKept => "notKept" in entry;

interface Tally {
  readonly file: string;
  readonly reason: RejectReason;
  readonly partial: boolean;
  count: number;
  firstLine: number;
  lastLine: number;
}

const SEP = "\u001f";

/** Keeps the first rejected rows within the limits, and counts every one. */
export class RejectKeeper {
  private readonly kept: RejectedRow[] = [];
  private keptBytes = 0;
  /** Set once a row did not fit: from then on none is kept, so the rows kept are the first ones. */
  private full = false;
  private readonly tallies = new Map<string, Tally>();
  private readonly byReason = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  private notKept = 0;

  constructor(private readonly limits: RejectLimits = REJECT_LIMITS) {}

  add(row: RejectedRow): void {
    this.byReason[row.reason]++;
    if (!this.full) {
      const bytes = this.kept.length < this.limits.rows ? Buffer.byteLength(JSON.stringify(row)) + 1 : Infinity;
      if (this.keptBytes + bytes <= this.limits.bytes) {
        this.kept.push(row);
        this.keptBytes += bytes;
        return;
      }
      this.full = true;
    }
    this.notKept++;
    this.tally(row);
  }

  private tally(row: RejectedRow): void {
    const key = (file: string) => `${file}${SEP}${row.reason}${SEP}${row.partial}`;
    const own = this.tallies.get(key(row.file));
    const t = own ?? (this.tallies.size < this.limits.summaries ? undefined : this.tallies.get(key(OTHER_FILES)));
    if (t) {
      t.count++;
      t.firstLine = Math.min(t.firstLine, row.line);
      t.lastLine = Math.max(t.lastLine, row.line);
      return;
    }
    // Per reason alone past the limit: at most one more tally per reason and partiality.
    const file = this.tallies.size < this.limits.summaries ? row.file : OTHER_FILES;
    this.tallies.set(key(file), { file, reason: row.reason, partial: row.partial, count: 1, firstLine: row.line, lastLine: row.line });
  }

  /** Every reject counted by reason, kept or not. */
  get rejectsByReason(): Record<RejectReason, number> {
    return { ...this.byReason };
  }

  get notKeptCount(): number {
    return this.notKept;
  }

  get rows(): RejectedRow[] {
    return this.kept;
  }

  /** The counts of the rows not kept, each saying so. */
  get notKeptSummaries(): RejectsNotKept[] {
    const { rows, bytes } = this.limits;
    return [...this.tallies.values()].map((t) => ({
      file: t.file,
      reason: t.reason,
      partial: t.partial,
      notKept: t.count,
      firstLine: t.firstLine,
      lastLine: t.lastLine,
      detail: `${t.count} more rejected row${t.count === 1 ? "" : "s"} (${t.reason}${t.partial ? ", partial" : ""}, lines ${t.firstLine}–${t.lastLine}${t.file === OTHER_FILES ? " of further files" : ""}) not kept: the first ${rows} rejected rows, up to ${bytes} bytes of them, are kept; the source file itself is left where it is`,
    }));
  }
}
