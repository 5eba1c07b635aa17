import { closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";
import { checkLimit, decodeCursor, encodeCursor, pageListing, pageStart, prefixEnd, rankedListing, indexEntryOf } from "./record-indexes.ts";
import { RecordExists, type DamagedRecord, type RecordWrite, type Page, type PageQuery, type RankCounts, type RankedEntry, type RankedQuery, type RankedSummaries, type RankedTable, type RecordStore, type RecordStoreOptions, type Table } from "./records.ts";

/**
 * Records in one SQLite database file (node:sqlite), shared by every process that uses
 * the same data directory: WAL, so readers never wait for the writer; a busy timeout, so
 * writers of several processes queue instead of failing; every write one statement, so
 * atomic. Conditional writes (`create`, `claim`) are upserts whose condition SQLite checks
 * under its write lock. A ranked table's records carry their index entry (partition, rank,
 * tie-break, label, summary) in columns of two partial indexes, so ranked lists and their counts read
 * those indexes, not the records. Expired records read as absent; none is deleted for it.
 *
 * The calls are synchronous underneath (node:sqlite has no async API): a statement takes
 * microseconds to a few milliseconds. Reads are made at once. Writes asked for in one turn
 * of the event loop are made together, in one IMMEDIATE transaction (a commit costs more
 * than the statements it holds), and each caller's promise settles once it is committed: a
 * writer of another process holds the lock for as long as one turn's writes take.
 */
export class SqliteRecordStore implements RecordStore {
  private readonly now: () => number;
  private readonly onDamaged: (damage: DamagedRecord) => void;
  private connection: Connection | undefined;

  private constructor(
    private readonly file: string,
    options: RecordStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.onDamaged = options.onDamaged ?? (() => {});
  }

  /**
   * The store over `file`, which is created at the first read or write. Cheap to call per
   * request: each process keeps one connection per file.
   */
  static open(file: string, options: RecordStoreOptions = {}): SqliteRecordStore {
    return new SqliteRecordStore(resolve(file), options);
  }

  private get db(): Connection {
    return (this.connection ??= Connection.of(this.file));
  }

  /** The SQL this process has prepared on `file`, to inspect its query plans. */
  static preparedOn(file: string): string[] {
    return Connection.preparedOn(resolve(file));
  }

  async get<T>(table: Table, id: string): Promise<T | undefined> {
    const row = this.db.get("SELECT body FROM records WHERE tbl = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)", table, id, this.now());
    return row ? this.parse<T>(table, id, row["body"]) : undefined;
  }

  async create<T>(table: Table, id: string, value: T): Promise<void> {
    const created = this.createLater(row(table, id, value));
    if (!(await this.db.write(created))) throw new RecordExists(table, id);
  }

  async put<T>(table: Table, id: string, value: T, options: { expiresAt?: number } = {}): Promise<void> {
    const params = row(table, id, value, options.expiresAt);
    await this.db.write(() => this.db.run(UPSERT, ...params));
  }

  /** In the transaction of the turn's writes, in order. */
  putMany(writes: readonly RecordWrite[]): Promise<boolean[]> {
    return Promise.all(
      writes.map((w) => {
        const params = row(w.table, w.id, w.value, w.expiresAt);
        return this.db.write(w.ifAbsent ? this.createLater(params) : () => this.db.run(UPSERT, ...params) >= 0);
      }),
    );
  }

  /** Read, changed and written in the same IMMEDIATE transaction: another process's writer waits for it. */
  async update<T>(table: Table, id: string, change: (current: T) => T): Promise<T | undefined> {
    return this.db.write(() => {
      const found = this.db.get("SELECT body, expires_at FROM records WHERE tbl = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)", table, id, this.now());
      const current = found ? this.parse<T>(table, id, found["body"]) : undefined;
      if (current === undefined) return undefined;
      const next = change(current);
      const expiresAt = found!["expires_at"];
      this.db.run(UPSERT, ...row(table, id, next, typeof expiresAt === "number" ? expiresAt : undefined));
      return next;
    });
  }

  /** The write that creates a record (its row made now, as the caller's value is now): true when created. */
  private createLater(params: SQLInputValue[]): () => boolean {
    return () => this.db.run(CREATE, ...params, this.now()) === 1;
  }

  async list<T>(table: Table, prefix = ""): Promise<T[]> {
    const [range, bounds] = idRange(prefix);
    return this.parsed<T>(table, this.db.all(`SELECT id, body FROM records WHERE tbl = ? AND ${range} AND ${LIVE} ORDER BY id`, table, ...bounds, this.now()));
  }

  async listPage<T>(table: Table, query: PageQuery): Promise<Page<T>> {
    checkLimit(query.limit);
    const listing = pageListing(table, query);
    const after = query.cursor === undefined ? pageStart(query.prefix ?? "", query.after) : decodeCursor(listing, query.cursor).id;
    if (after === "past") return { items: [] };
    const [range, bounds] = idRange(query.prefix ?? "", after);
    const rows = this.db.all(`SELECT id, body FROM records WHERE tbl = ? AND ${range} AND ${LIVE} ORDER BY id LIMIT ?`, table, ...bounds, this.now(), query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: this.parsed<T>(table, page), ...(rows.length > query.limit && last ? { cursor: encodeCursor(listing, { id: String(last["id"]) }) } : {}) };
  }

  /**
   * From the index alone (it covers the query): no record is read. Kept while nothing in
   * the database changes (a console or client polling the same list reads it once).
   */
  async listRanked<K extends RankedTable>(table: K, query: RankedQuery): Promise<Page<RankedEntry<RankedSummaries[K]>>> {
    checkLimit(query.limit);
    const listing = rankedListing(table, query);
    const after = query.cursor === undefined ? undefined : decodeCursor(listing, query.cursor);
    const now = this.now();
    const key = ["list", table, query.partition, query.min ?? -Infinity, query.limit, query.cursor ?? ""].join("\0");
    return this.db.remember(key, now, table, query.partition, () => {
      // The index holds −rank, so that "highest rank, then lowest at, then id" is one ascending order.
      const from = after ? "AND (nrank, at, id) > (?, ?, ?)" : "";
      const rows = this.db.all(
        `SELECT id, nrank, at, label, summary FROM records WHERE tbl = ? AND part = ? AND nrank <= ? ${from} AND ${LIVE} ORDER BY nrank, at, id LIMIT ?`,
        table,
        query.partition,
        -(query.min ?? -Infinity),
        ...(after ? [-after.rank!, after.at!, after.id] : []),
        now,
        query.limit + 1,
      );
      const page = rows.slice(0, query.limit);
      const items = page.flatMap((r) => {
        const id = String(r["id"]);
        const summary = this.parse<RankedSummaries[K]>(table, id, r["summary"]);
        return summary === undefined ? [] : [{ id, rank: -Number(r["nrank"]), at: Number(r["at"]), label: String(r["label"]), summary }];
      });
      const last = page.at(-1);
      return { items, ...(rows.length > query.limit && last ? { cursor: encodeCursor(listing, { id: String(last["id"]), rank: -Number(last["nrank"]), at: Number(last["at"]) }) } : {}) };
    });
  }

  /**
   * Each label's count is a range of the label index; the labels themselves are found by
   * skipping from one to the next (a handful: a metric set's measures), so no row is sorted.
   */
  async countRanked(table: RankedTable, partition: string, min = -Infinity): Promise<RankCounts> {
    const now = this.now();
    return this.db.remember(["count", table, partition, min].join("\0"), now, table, partition, () => {
      const rows = this.db.allNamed(COUNT_BY_LABEL, { tbl: table, part: partition, nrank: -min, now });
      const byLabel: Record<string, number> = {};
      let earliest: number | undefined;
      for (const r of rows) {
        if (Number(r["n"]) === 0) continue;
        byLabel[String(r["label"])] = Number(r["n"]);
        earliest = Math.min(earliest ?? Infinity, Number(r["earliest"]));
      }
      return { total: Object.values(byLabel).reduce((a, b) => a + b, 0), byLabel, ...(earliest === undefined ? {} : { earliest }) };
    });
  }

  async delete(table: Table, id: string): Promise<void> {
    await this.db.write(() => this.db.run("DELETE FROM records WHERE tbl = ? AND id = ?", table, id));
  }

  /** One statement, in one transaction: another process sees all of them or none gone. */
  async deletePrefix(table: Table, prefix: string): Promise<number> {
    const [range, bounds] = idRange(prefix);
    return this.db.write(() => {
      const now = this.now();
      const gone = this.db.all(`DELETE FROM records WHERE tbl = ? AND ${range} RETURNING expires_at`, table, ...bounds);
      return gone.filter((r) => r["expires_at"] === null || Number(r["expires_at"]) > now).length;
    });
  }

  async claim(id: string, until: number, now: number): Promise<boolean> {
    const params = row("leases", id, { until }, until + ABANDONED_LEASE_MS);
    return this.db.write(() => this.db.run(CLAIM, ...params, now, now) === 1);
  }

  async release(id: string, until: number): Promise<boolean> {
    return this.db.write(() => this.db.run("DELETE FROM records WHERE tbl = 'leases' AND id = ? AND json_valid(body) AND json_extract(body, '$.until') = ?", id, until) === 1);
  }

  private parse<T>(table: Table, id: string, body: unknown): T | undefined {
    try {
      return JSON.parse(String(body)) as T;
    } catch (e) {
      this.onDamaged({ table, id, reason: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  }

  private parsed<T>(table: Table, rows: readonly Record<string, SQLOutputValue>[]): T[] {
    return rows.flatMap((r) => {
      const v = this.parse<T>(table, String(r["id"]), r["body"]);
      return v === undefined ? [] : [v];
    });
  }
}

/** A lease nobody released is dropped a day after it ran out, as DynamoDB's TTL does. */
const ABANDONED_LEASE_MS = 86_400_000;

const LIVE = "(expires_at IS NULL OR expires_at > ?)";

/** Per label, a range of the label index gives its count, and another its least `at`. */
const LABELLED = "FROM records WHERE tbl = :tbl AND part = :part AND label = l AND nrank <= :nrank AND (expires_at IS NULL OR expires_at > :now)";
const COUNT_BY_LABEL = `WITH RECURSIVE labels(l) AS (
    SELECT (SELECT min(label) FROM records WHERE tbl = :tbl AND part = :part)
    UNION ALL SELECT (SELECT min(label) FROM records WHERE tbl = :tbl AND part = :part AND label > l) FROM labels WHERE l IS NOT NULL)
  SELECT l AS label, (SELECT count(*) ${LABELLED}) AS n, (SELECT min(at) ${LABELLED}) AS earliest
  FROM labels WHERE l IS NOT NULL`;

const UPSERT = `INSERT INTO records (tbl, id, body, expires_at, part, nrank, at, label, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (tbl, id) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at, part = excluded.part, nrank = excluded.nrank, at = excluded.at, label = excluded.label, summary = excluded.summary`;

/** Made when absent, expired or unreadable (an expired or damaged record reads as absent). */
const CREATE = `${UPSERT} WHERE (records.expires_at IS NOT NULL AND records.expires_at <= ?) OR NOT json_valid(records.body)`;

/** Taken when absent, expired, unreadable, or held until before `now`; SQLite evaluates this under its write lock. */
const CLAIM = `${UPSERT} WHERE (records.expires_at IS NOT NULL AND records.expires_at <= ?)
  OR CASE WHEN json_valid(records.body) THEN coalesce(json_extract(records.body, '$.until') < ?, 0) ELSE 1 END`;

function row(table: Table, id: string, value: unknown, expiresAt?: number): SQLInputValue[] {
  const entry = indexEntryOf(table, id, value);
  return [table, id, JSON.stringify(value), expiresAt ?? null, entry?.partition ?? null, entry ? -entry.rank : null, entry?.at ?? null, entry?.label ?? null, entry?.summary ?? null];
}

/** Ids starting with `prefix` (and after `after`), as a range of the primary key. */
function idRange(prefix: string, after?: string): [string, SQLInputValue[]] {
  const end = prefixEnd(prefix);
  const lower: [string, SQLInputValue] = after === undefined ? ["id >= ?", prefix] : ["id > ?", after];
  return end === undefined ? [lower[0], [lower[1]]] : [`${lower[0]} AND id < ?`, [lower[1], end]];
}

/** The schema's version, in SQLite's user_version. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE records (
    tbl TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER,
    -- A ranked table's index entry (record-indexes.ts); NULL elsewhere.
    part TEXT,
    nrank REAL,
    at REAL,
    label TEXT,
    summary TEXT,
    PRIMARY KEY (tbl, id)
  );
  CREATE INDEX records_ranked ON records (tbl, part, nrank, at, id, label, expires_at, summary) WHERE part IS NOT NULL;
  CREATE INDEX records_labelled ON records (tbl, part, label, nrank, expires_at, at) WHERE part IS NOT NULL;
  PRAGMA user_version = ${SCHEMA_VERSION};
`;

/** Makes the schema in a new database (one process does, the others wait on the lock and find it made). */
function ensureSchema(db: DatabaseSync, file: string): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    const version = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    const empty = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
    if (version === 0 && Number(empty.n) === 0) db.exec(SCHEMA);
    else if (version !== SCHEMA_VERSION) throw new Error(`${file} is not a records database of this version of Vigil (schema ${version}, expected ${SCHEMA_VERSION}); move it away to start afresh`);
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

/** One connection per database file and process, with its prepared statements. */
class Connection {
  private static readonly open = new Map<string, Connection>();
  private readonly statements = new Map<string, StatementSync>();
  /** Ranked reads' answers (remember), oldest first. */
  private readonly remembered = new Map<string, Remembered>();
  /** Writes waiting for the end of the turn (write). */
  private pending: { readonly work: () => unknown; readonly resolve: (value: unknown) => void; readonly reject: (error: unknown) => void }[] = [];

  private constructor(
    private readonly db: DatabaseSync,
    readonly inode: number,
  ) {}

  static of(file: string): Connection {
    const known = Connection.open.get(file);
    // A data directory removed and made again (the demo starts afresh) is a new database.
    if (known && inodeOf(file) === known.inode) return known;
    known?.db.close();
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Created private before SQLite opens it; its -wal and -shm files take the same mode.
    closeSync(openSync(file, "a", 0o600));
    const { DatabaseSync } = loadSqlite();
    const db = new DatabaseSync(file);
    try {
      db.exec("PRAGMA busy_timeout = 10000");
      ensureSchema(db, file);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
    } catch (e) {
      db.close();
      throw e;
    }
    const made = new Connection(db, inodeOf(file)!);
    Connection.open.set(file, made);
    return made;
  }

  static preparedOn(file: string): string[] {
    return [...(Connection.open.get(file)?.statements.keys() ?? [])];
  }

  get(sql: string, ...params: SQLInputValue[]): Record<string, SQLOutputValue> | undefined {
    return this.statement(sql).get(...params) as Record<string, SQLOutputValue> | undefined;
  }

  all(sql: string, ...params: SQLInputValue[]): Record<string, SQLOutputValue>[] {
    return this.statement(sql).all(...params) as Record<string, SQLOutputValue>[];
  }

  allNamed(sql: string, params: Record<string, SQLInputValue>): Record<string, SQLOutputValue>[] {
    return this.statement(sql).all(params) as Record<string, SQLOutputValue>[];
  }

  /**
   * Makes `work` (synchronous: reads and writes of one record) in the transaction of this
   * turn's writes, after those asked for before it; settles once that is committed.
   */
  write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.commitPending());
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /**
   * The turn's writes, in one IMMEDIATE transaction (the write lock taken first). A write
   * that throws (a change refused, a statement failed) is undone alone, as SQLite undoes a
   * failed statement, and its caller told; should the transaction itself fail, none of it
   * is kept and each write is made again in a transaction of its own, so every caller is
   * answered for its own write.
   */
  private commitPending(): void {
    const batch = this.pending;
    this.pending = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.transaction(() => {
        for (const w of batch) {
          try {
            outcomes.push({ ok: true, value: w.work() });
          } catch (error) {
            if (!this.db.isTransaction) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch {
      for (const w of batch) {
        try {
          w.resolve(this.transaction(w.work));
        } catch (error) {
          w.reject(error);
        }
      }
      return;
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) w.resolve(outcome.value);
      else w.reject(outcome.error);
    });
  }

  /** `work` in one IMMEDIATE transaction (the write lock taken first), rolled back when it throws. */
  private transaction<T>(work: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const out = work();
      this.db.exec("COMMIT");
      return out;
    } catch (e) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Runs a write; answers how many rows it changed. */
  run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.statement(sql).run(...params).changes);
  }

  /**
   * A ranked read's answer, computed once and given again while it still holds: the
   * database unchanged since (no write of this connection, no commit of another process:
   * SQLite's total_changes and data_version), the clock not gone back, and no record of the
   * partition expired meanwhile. Answers are frozen, being shared.
   */
  remember<T>(key: string, now: number, table: string, partition: string, compute: () => T): T {
    const version = this.version();
    const known = this.remembered.get(key);
    if (known && known.version === version && now >= known.from && now < known.until) return known.value as T;
    const value = deepFreeze(compute());
    const expiry = this.get("SELECT min(expires_at) AS e FROM records WHERE tbl = ? AND part = ? AND expires_at > ?", table, partition, now)?.["e"];
    this.remembered.delete(key);
    if (this.remembered.size >= REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, { version, from: now, until: typeof expiry === "number" ? expiry : Infinity, value });
    return value;
  }

  /** Moves whenever the database changes: by this connection's writes or another connection's commits. */
  private version(): string {
    const r = this.get("SELECT total_changes() AS changes, (SELECT data_version FROM pragma_data_version) AS version")!;
    return `${String(r["changes"])}:${String(r["version"])}`;
  }

  private statement(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
}

/** How many ranked answers a connection keeps (each at most a page of summaries). */
const REMEMBERED = 256;

interface Remembered {
  readonly version: string;
  readonly from: number;
  readonly until: number;
  readonly value: unknown;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function inodeOf(file: string): number | undefined {
  return statSync(file, { throwIfNoEntry: false })?.ino;
}

/**
 * node:sqlite, loaded when a store is first opened (modes that never open one never load
 * it). Node 22 announces it as experimental when it loads; that one warning is dropped,
 * every other passes.
 */
export function loadSqlite(): typeof import("node:sqlite") {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === "string" ? rest[0] : ((rest[0] as { type?: string } | undefined)?.type ?? (warning instanceof Error ? warning.name : undefined));
    const text = typeof warning === "string" ? warning : warning.message;
    if (type === "ExperimentalWarning" && text.startsWith("SQLite ")) return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const sqlite = typeof process.getBuiltinModule === "function" ? process.getBuiltinModule("node:sqlite") : undefined;
    if (!sqlite) throw new Error(`the local mode's records need node:sqlite, in Node 22.13 or later; this is Node ${process.versions.node} (run Vigil through npm: npx vigil, npm run …)`);
    return sqlite;
  } finally {
    process.emitWarning = emit;
  }
}
