/**
 * The record port: configuration and results that are looked up by id (detectors,
 * metric sets, alerts, anomaly groups, executions). `create` and `claim` are conditional
 * writes, so two racing writers cannot both win. A record whose `expiresAt` has passed
 * reads as absent everywhere, whether or not the store has dropped it yet.
 */
export type Table = "detectors" | "metricSets" | "alerts" | "groups" | "executions" | "quality" | "leases" | "notifications" | "deliveries" | "silences" | "feedback" | "pushes" | "notices" | "parked" | "recipients";

/** Tables whose records are also kept in a ranked index (record-indexes.ts says by what). */
export type RankedTable = "groups";

export class RecordExists extends Error {
  override readonly name = "RecordExists";
  constructor(
    readonly table: Table,
    readonly id: string,
  ) {
    super(`${table}/${id} already exists`);
  }
}

/** An update that kept losing to other writers of the same record. */
export class RecordContended extends Error {
  override readonly name = "RecordContended";
  constructor(
    readonly table: Table,
    readonly id: string,
    readonly attempts: number,
  ) {
    super(`${table}/${id} was changed by others ${attempts} times while it was being updated`);
  }
}

/** A record the store holds but cannot read (edited by hand, say): reads skip it and report it. */
export interface DamagedRecord {
  readonly table: Table;
  readonly id: string;
  readonly reason: string;
}

/** One page of a listing; `cursor` continues it and is absent on the last page. */
export interface Page<T> {
  readonly items: T[];
  readonly cursor?: string;
}

export interface PageQuery {
  /** Only ids starting with this. */
  readonly prefix?: string;
  /** At most this many records (1 to 1,000). */
  readonly limit: number;
  /** The previous page's cursor, from the same listing. */
  readonly cursor?: string;
  /** Without a cursor: only ids after this one (a listing that skips ahead), never beyond the prefix. */
  readonly after?: string;
}

export interface RankedQuery {
  /** The records' partition: their id up to and including its last "/" (a group's: its metric set's key and "/"). */
  readonly partition: string;
  /** Only records ranked at least this. */
  readonly min?: number;
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * What a ranked index keeps of each record: enough to list it without reading it. Records
 * are ordered by `rank`, highest first, then by `at`, lowest first, then by id.
 */
export interface RankedEntry<S> {
  readonly id: string;
  readonly rank: number;
  readonly at: number;
  readonly label: string;
  readonly summary: S;
}

/** The summary each ranked table's index keeps. */
export interface RankedSummaries {
  readonly groups: { readonly startMs: number; readonly endMs: number };
}

/** How a ranked table's records are indexed: derived from each record as it is written (shared/app/rankings.ts). */
export interface Ranking<T, S> {
  rank(value: T): number;
  /** The tie-break, lowest first (a time, say). */
  at(value: T): number;
  /** What the records are counted under. */
  label(value: T): string;
  summary(value: T): S;
}

/** How many records of a partition rank at least the minimum: in all, per label, and the least `at` among them. */
export interface RankCounts {
  readonly total: number;
  readonly byLabel: Readonly<Record<string, number>>;
  readonly earliest?: number;
}

/** One write of a batch (RecordStore.putMany). */
export interface RecordWrite<T = unknown> {
  readonly table: Table;
  readonly id: string;
  readonly value: T;
  /** As put's: the record reads as absent from then on. */
  readonly expiresAt?: number;
  /** Written only where no live record is (as create). */
  readonly ifAbsent?: boolean;
}

export interface RecordStore {
  get<T>(table: Table, id: string): Promise<T | undefined>;
  /** Creates the record; throws RecordExists when it is there already. */
  create<T>(table: Table, id: string, value: T): Promise<void>;
  /**
   * Changes one record atomically: `change` is given the record as stored and answers its
   * next value, and no other write to the record comes between the two (no update is lost to
   * a concurrent one). Answers the value written, or undefined when there is no record
   * (nothing is written). `change` must be synchronous; when it throws, nothing is written.
   * Throws RecordContended when other writers kept changing the record meanwhile.
   */
  update<T>(table: Table, id: string, change: (current: T) => T): Promise<T | undefined>;
  /** `expiresAt` (epoch ms): the record reads as absent from then on, and the store may drop it. */
  put<T>(table: Table, id: string, value: T, options?: { expiresAt?: number }): Promise<void>;
  /**
   * Several writes in few requests (SQLite: one transaction; DynamoDB: BatchWriteItem, 25
   * a request), made as if one after the other, in order. Each write is atomic; the batch as
   * a whole need not be. Answers, per write, whether it was written: a write `ifAbsent` is
   * not where a live record is there already (create's condition, answered, not thrown).
   */
  putMany(writes: readonly RecordWrite[]): Promise<boolean[]>;
  /** Records whose id starts with `prefix`, in id order. */
  list<T>(table: Table, prefix?: string): Promise<T[]>;
  /** The same, a page at a time: read from the index, never every record. */
  listPage<T>(table: Table, query: PageQuery): Promise<Page<T>>;
  /** Index entries of one partition ranked at least `min`, in rank order (RankedEntry), a page at a time. */
  listRanked<K extends RankedTable>(table: K, query: RankedQuery): Promise<Page<RankedEntry<RankedSummaries[K]>>>;
  /** Counts of what listRanked would list, from the index alone. */
  countRanked(table: RankedTable, partition: string, min?: number): Promise<RankCounts>;
  delete(table: Table, id: string): Promise<void>;
  /** Deletes every record whose id starts with `prefix`; answers how many there were. */
  deletePrefix(table: Table, prefix: string): Promise<number>;
  /**
   * Takes the lease `id` until `until` (epoch ms) when nobody holds it, or its holder's
   * lease ran out before `now`: true when taken. Two racing callers cannot both get it.
   */
  claim(id: string, until: number, now: number): Promise<boolean>;
  /**
   * Gives the lease `id` back (it goes) while its term is still `until`, its holder's: true
   * when given back. A lease another caller took over once it ran out is left as it is.
   */
  release(id: string, until: number): Promise<boolean>;
}

/** What both adapters are given besides their connection. */
export interface RecordStoreOptions {
  /** The clock `expiresAt` is read against (the runtime's: a simulation's clock in the demo). */
  readonly now?: () => number;
  /** Told of each damaged record a read skipped. */
  readonly onDamaged?: (damage: DamagedRecord) => void;
}
