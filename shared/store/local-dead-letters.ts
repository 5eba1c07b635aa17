import { createHash, randomBytes, randomInt } from "node:crypto";
import { link, mkdir, open, readdir, readFile, readlink, rename, stat, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { basename, join } from "node:path";
import { accountInName } from "./account-names.ts";
import type { DeadLetters, Delivery, DrainOptions, ParkedDelivery } from "../alerts/delivery.ts";
import { drainFailure, type DrainCounts, type StoppedAccount } from "../alerts/replay.ts";
import { madeOnFirstUse } from "../model/first-use.ts";
import { arnAccount } from "../model/ids.ts";
import { Coalescer } from "./coalesce.ts";
import { isMissing } from "./local-blobs.ts";

/** A line that settles a parked delivery: it was sent, or found sent, by a replay. */
interface Settled {
  readonly settled: { readonly deliveryId: string; readonly parkedAt: number };
}

/**
 * The longest line read. A parked delivery is far shorter (in AWS it rides SQS, 256 KiB at
 * most); a longer line is passed over as it streams by, never held, and reported.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Parked deliveries retried at once by a drain, as in AWS (`PARKED_PAGE`). */
export const LOCAL_PARKED_PAGE = 25;

/** Snapshots read again at most when compactions keep replacing the file under a read. */
const READ_ATTEMPTS = 5;

/** Something the dead letters could not read: a line cut short, too long, or not a delivery. */
export interface DamagedLine {
  readonly file: string;
  readonly reason: string;
}

export interface LocalDeadLettersOptions {
  /** The single file of every account's lines that came before this folder; its lines are moved in at first use. */
  readonly legacyFile?: string;
  readonly onDamaged?: (damage: DamagedLine) => void;
}

/**
 * Names of this process's own files (rotated, claimed, locking) tell its instances apart too.
 * Started at random: a process restarted with the pid of one that stopped part way (a
 * container's pid 1) must not take the names of what that one left (a rename would replace
 * its rotated file, and the parked lines in it).
 */
let counter = randomInt(2 ** 47);

/** The tokens of the compaction locks this process holds, or is taking. */
const tokens = new Set<string>();

/** This process's pid namespace (Linux), empty where it cannot be told: a pid names a process within its namespace alone. */
const pidNamespace = madeOnFirstUse(() => readlink("/proc/self/ns/pid").catch(() => ""));

/** Each legacy file's move, once per process, whatever the number of instances. */
const migrations = new Map<string, Promise<void>>();

const idOf = (deliveryId: string, parkedAt: number) => `${parkedAt} ${deliveryId}`;
const hashOf = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);
/** `<account>.<hash of the account>.jsonl`: the account as it may stand in a name (as the spool's), the hash telling apart two that read the same once cleaned. */
export const deadLetterFileName = (account: string) => `${accountInName(account)}.${hashOf(account)}.jsonl`;

/**
 * The local mode's dead-letter queue: a folder with one file per account
 * (`<account>.<hash>.jsonl`), one JSON line per parked delivery and one per parked delivery
 * a replay settled. A tenant's replay reads its own account's file alone; the operator's
 * reads one account's after another. Every read streams its files a chunk at a time: a line
 * longer than `MAX_LINE_BYTES` is passed over without being held, and reported, as is a line
 * that is not a delivery (an append cut short by a full disk). A replay reads its files
 * twice, from the same open handles: the settled ids first, then the parked lines, retried
 * a page at a time as they come; it holds the ids, and a page. A compaction and the move of
 * the old single file read the same way, and write what they keep as they go.
 *
 * Any number of processes may park, replay and compact at once:
 * - An append (park, settle) is one write (of 256 KiB at most; more lines, more writes) to
 *   the file opened for appending, its lines starting on a line of their own, so that
 *   concurrent writers' lines never interleave and one cut short spoils no line after it.
 *   Appenders never wait for anything. (Copying the live lines to a temporary file and
 *   renaming it over the file would lose a line appended between the copy and the rename,
 *   unless appenders took the compaction's lock too, and then a compaction that stopped
 *   holding it would stop every park until its lock was found stale.)
 * - Compaction (after a replay, once dead lines, settled or damaged, outnumber the live ones)
 *   first renames the file aside (`<file>.<pid>-<n>.rotated`): from that instant appenders
 *   create and append to a new file. The rotated file is folded: its unsettled parked lines
 *   are appended to the new file (and synced), its damaged ones to `<file>.damaged` for the
 *   operator, and only then is it removed. Nothing appended concurrently is lost: an
 *   appender checks, after its write, that the name still holds the file it wrote to (the
 *   name's inode, read before the handle's own, which must still be linked); if not, its
 *   write may have missed the fold, and it appends its lines again. A line so written twice,
 *   or seen by two folds, is the same fact twice: reads and folds count a parked delivery
 *   once, and its settled line settles every copy.
 * - A compaction that stops part way (a crash, `kill -9`) leaves its rotated file, which
 *   reads still read, and at worst a partial append of its folded lines (a damaged line, and
 *   copies of lines its rotated file still holds). The next compaction folds every rotated
 *   file it finds with the new one.
 * - Compactions of one account take turns: `<file>.lock`, made by linking a file that names
 *   the process (so it is never seen half written), and taken over once that process is
 *   gone (one naming this process's pid that this process does not hold was left by an
 *   earlier process with that pid: a container's pid 1, restarted). A compaction that finds it held by a live process is skipped (the holder is
 *   compacting). Taking turns is what lets a fold drop a settled line whose parked line it
 *   did not see: each unsettled parked line is carried into the next fold, so a settled one
 *   alone is for a delivery already dropped (settled twice by two replays). Two folds at once
 *   (a lock taken over by two processes at the same moment) lose no unsettled line either;
 *   they, or an append made again after a fold had already read it, may bring back a
 *   settled delivery as parked, which the next replay finds sent (its record of being sent
 *   is kept 90 days), and settles again without sending it.
 * - A read opens the file, then the rotated files, reads them all, and reads again if the
 *   name no longer holds the file it opened or a rotated file vanished meanwhile (a fold
 *   finished under it): each parked line is in what it read, once or more.
 * Lines written at about the same time (deliveries parked at once, settled by one page of a
 * replay) go in one append.
 */
export class LocalDeadLetters implements DeadLetters {
  private readonly appenders = new Map<string, Coalescer<ParkedDelivery | Settled>>();

  constructor(
    private readonly dir: string,
    private readonly options: LocalDeadLettersOptions = {},
  ) {}

  /** The file of an account's dead letters. */
  fileOf(account: string): string {
    return join(this.dir, deadLetterFileName(account));
  }

  async park(parked: ParkedDelivery): Promise<void> {
    // Refused here, not in the batch: it would fail the others' appends too.
    if (Buffer.byteLength(JSON.stringify(parked)) > MAX_LINE_BYTES) throw new RangeError(`a parked delivery of more than ${MAX_LINE_BYTES} bytes cannot be kept (${parked.delivery.deliveryId})`);
    await this.migrated();
    return this.appenderOf(this.fileOf(arnAccount(parked.delivery.alertArn))).add([parked]);
  }

  /** Whether the delivery is parked and not settled: its account's file is read for it. */
  async holds(delivery: Delivery): Promise<boolean> {
    return (await this.list(arnAccount(delivery.alertArn))).some((p) => p.delivery.deliveryId === delivery.deliveryId);
  }

  /** The deliveries parked and not settled, every account's (or one account's), oldest first. */
  async list(account?: string): Promise<ParkedDelivery[]> {
    await this.migrated();
    const out: ParkedDelivery[] = [];
    for (const file of await this.filesOf(account)) out.push(...(await this.read(file)));
    return sortByAge(out);
  }

  /**
   * The account's parked deliveries (every account's, one after another, when none is
   * given) are retried `LOCAL_PARKED_PAGE` at a time, as they are read (deliveries keep to
   * their channels' limits); those sent are settled, a page in one append. None is taken
   * once `signal` is aborted. A retry that throws leaves its delivery parked; the page's
   * other outcomes stand, and nothing more of that account is retried: an account's drain
   * throws the failure; the operator's goes on with the other accounts (one tenant's failing
   * delivery, or unreadable file, does not hold back another's) and then throws
   * ReplayIncomplete, naming each account stopped. Nothing is held: a concurrent drain, of
   * this account or another, finds every line. Once the account's dead lines outnumber its
   * live ones, its file is compacted.
   */
  async drain(retry: (parked: ParkedDelivery) => Promise<boolean>, options: DrainOptions = {}): Promise<DrainCounts> {
    await this.migrated();
    const counts = { retried: 0, remaining: 0 };
    const stopped: StoppedAccount[] = [];
    for (const file of await this.filesOf(options.account)) {
      try {
        const failure = await this.drainFile(file, retry, options, counts);
        if (failure) stopped.push(failure);
      } catch (e) {
        // Its file could not be read or folded: that account stops, the operator's replay goes on with the others.
        stopped.push({ account: options.account ?? accountOfFile(file), failure: e });
      }
      if (stopped.length && options.account !== undefined) break;
    }
    const failure = drainFailure(options, stopped, counts);
    if (failure) throw failure.thrown;
    return counts;
  }

  /** Drains one account's file into `counts`; what stopped it, if a retry threw (the rest of the file is then left parked, untried). */
  private async drainFile(file: string, retry: (parked: ParkedDelivery) => Promise<boolean>, options: DrainOptions, counts: { retried: number; remaining: number }): Promise<StoppedAccount | undefined> {
    const snapshot = await this.snapshot(file);
    let live = 0;
    let settledNow = 0;
    // Held in an object: a retry may reject with undefined, and that stops the account too.
    let failure: StoppedAccount | undefined;
    try {
      // A page at a time, as the files are read: what is held is the settled ids, and a page.
      let page: ParkedDelivery[] = [];
      const retryPage = async () => {
        const outcomes = await Promise.allSettled(page.map((p) => retry(p)));
        const sent = page.filter((_, k) => outcomes[k]!.status === "fulfilled" && (outcomes[k] as PromiseFulfilledResult<boolean>).value);
        if (sent.length) await this.appenderOf(file).add(sent.map((p) => ({ settled: { deliveryId: p.delivery.deliveryId, parkedAt: p.parkedAt } })));
        counts.retried += sent.length;
        settledNow += sent.length;
        counts.remaining += page.length - sent.length;
        live -= sent.length;
        const failed = outcomes.findIndex((o) => o.status === "rejected");
        if (failed >= 0) failure = { account: arnAccount(page[failed]!.delivery.alertArn), failure: (outcomes[failed] as PromiseRejectedResult).reason };
        page = [];
      };
      for await (const parked of this.unsettledIn(snapshot)) {
        if (options.account && arnAccount(parked.delivery.alertArn) !== options.account) continue;
        live++;
        if (failure || options.signal?.aborted) continue;
        page.push(parked);
        if (page.length === LOCAL_PARKED_PAGE) await retryPage();
      }
      if (page.length && !failure && !options.signal?.aborted) await retryPage();
    } finally {
      await snapshot.close();
    }
    // Dead lines: all but the live ones, the settled lines just written included. A fold that fails is the account's failure, unless a retry's came first.
    if (snapshot.rotated > 0 || snapshot.lines + settledNow - live > live) {
      try {
        await this.compact(file);
      } catch (e) {
        failure ??= { account: accountOfFile(file), failure: e };
      }
    }
    return failure;
  }

  /**
   * Folds the file (and every rotated file a stopped compaction left) into its unsettled
   * parked lines, one of each. Skipped when another live process is compacting it. True when
   * it ran.
   */
  async compact(file: string): Promise<boolean> {
    const lock = await this.lock(file);
    if (!lock) return false;
    try {
      await this.sweep(file);
      const leftovers = await this.rotatedOf(file);
      // Never a name a stopped process left (one with this pid, which a restart may give back): the rename would replace its file.
      let rotated = `${file}.${process.pid}-${counter++}.rotated`;
      while (leftovers.includes(rotated)) rotated = `${file}.${process.pid}-${counter++}.rotated`;
      const folded = [...leftovers];
      try {
        await rename(file, rotated);
        folded.push(rotated);
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
      // Read twice, streamed: first the settled ids (and the damaged lines, kept aside as they come), then the parked lines to keep, appended as they come.
      const handles = new Map<string, FileHandle>();
      try {
        for (const path of folded) {
          const handle = await open(path).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
          // Folded already by a compaction that ran at the same time (a lock taken over twice): its lines are in the file.
          if (handle) handles.set(path, handle);
        }
        // The file just renamed aside may end in a write still under way: its writer finds the file renamed, and writes it again. A file a stopped compaction left ends where it ends.
        const tail = (path: string) => path !== rotated;
        const settled = new Set<string>();
        const damaged = new Batches((_, lines) => appendSynced(`${file}.damaged`, lines));
        for (const [path, handle] of handles) {
          for await (const line of linesOf(handle, { tail: tail(path) })) {
            const fact = typeof line === "string" ? factOf(line) : undefined;
            if (!fact) {
              await damaged.add("", typeof line === "string" ? line : line.head);
              this.damaged(path, typeof line === "string" ? "a line that is not a parked delivery (an append cut short?)" : `a line of ${line.bytes} bytes, longer than ${MAX_LINE_BYTES}`);
            } else if ("settled" in fact) settled.add(idOf(fact.settled.deliveryId, fact.settled.parkedAt));
          }
        }
        await damaged.flush();
        // The kept lines are in the file (synced) before any rotated file is removed: a crash before then leaves both, and the next fold counts them once.
        const kept = new Batches((_, lines) => appendChecked(file, lines, true));
        const seen = new Set<string>();
        for (const [path, handle] of handles) {
          for await (const line of linesOf(handle, { tail: tail(path) })) {
            const fact = typeof line === "string" ? factOf(line) : undefined;
            if (!fact || "settled" in fact) continue;
            const id = idOf(fact.delivery.deliveryId, fact.parkedAt);
            if (settled.has(id) || seen.has(id)) continue;
            seen.add(id);
            await kept.add("", line as string);
          }
        }
        await kept.flush();
      } finally {
        for (const handle of handles.values()) await handle.close();
      }
      const gone = new Set(folded.filter((path) => !handles.has(path)));
      for (const path of folded) if (!gone.has(path)) await unlink(path).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
      return true;
    } finally {
      await lock.release();
    }
  }

  private appenderOf(file: string): Coalescer<ParkedDelivery | Settled> {
    let appender = this.appenders.get(file);
    if (!appender) {
      // One write per batch, opened for appending; each batch starts on a line of its own.
      appender = new Coalescer(1_000, async (lines) => {
        await mkdir(this.dir, { recursive: true });
        await appendChecked(file, lines.map((l) => JSON.stringify(l)), false);
      });
      this.appenders.set(file, appender);
    }
    return appender;
  }

  /** The account files to read: the account's alone, or every one in the folder. */
  private async filesOf(account: string | undefined): Promise<string[]> {
    if (account !== undefined) return [this.fileOf(account)];
    const names = await readdir(this.dir).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)));
    const files = new Set<string>();
    for (const name of names) {
      // A rotated file left by a compaction that stopped belongs to its account's file too.
      const match = /^(.+\.jsonl)(\.\d+-\d+\.rotated)?$/.exec(name);
      if (match) files.add(join(this.dir, match[1]!));
    }
    return [...files].sort();
  }

  /** Removes what stopped processes left of their takes of the lock (`.locking`, `.stale`) and of their compactions' writes. */
  private async sweep(file: string): Promise<void> {
    const prefix = `${basename(file)}.`;
    for (const name of await readdir(this.dir).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)))) {
      const match = /^(\d+)-\d+\.(locking|stale)$/.exec(name.slice(prefix.length));
      if (name.startsWith(prefix) && match && !alive(Number(match[1]))) await unlink(join(this.dir, name)).catch(() => undefined);
    }
  }

  private async rotatedOf(file: string): Promise<string[]> {
    const prefix = `${basename(file)}.`;
    const names = await readdir(this.dir).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)));
    return names.filter((n) => n.startsWith(prefix) && /^\d+-\d+\.rotated$/.test(n.slice(prefix.length))).map((n) => join(this.dir, n));
  }

  /**
   * One account file with its rotated files, read as one, a first time: the settled ids,
   * and how many lines there are. The files stay open for `unsettledIn` to read again.
   */
  private async snapshot(file: string): Promise<Snapshot> {
    for (let attempt = 1; ; attempt++) {
      const handles: FileHandle[] = [];
      const close = async () => {
        for (const handle of handles) await handle.close();
      };
      try {
        // The file first, then the rotated ones (read first: their lines are the older).
        const live = await open(file).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
        const liveIno = live ? (await live.stat()).ino : undefined;
        const rotated = await this.rotatedOf(file);
        let vanished = false;
        for (const path of rotated) {
          const handle = await open(path).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
          if (handle) handles.push(handle);
          else vanished = true;
        }
        if (live) handles.push(live);
        if (vanished && attempt < READ_ATTEMPTS) {
          await close();
          continue;
        }
        const settled = new Set<string>();
        let lines = 0;
        const damaged: string[] = [];
        for (const handle of handles) {
          for await (const line of linesOf(handle, { tail: false })) {
            lines++;
            const fact = typeof line === "string" ? factOf(line) : undefined;
            if (!fact) damaged.push(typeof line === "string" ? "a line that is not a parked delivery (an append cut short?)" : `a line of ${line.bytes} bytes, longer than ${MAX_LINE_BYTES}`);
            else if ("settled" in fact) settled.add(idOf(fact.settled.deliveryId, fact.settled.parkedAt));
          }
        }
        const nowIno = await stat(file).then(
          (s) => s.ino,
          (e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)),
        );
        // A fold finished under the read (the file was replaced, or a rotated file removed): read again, up to a point.
        if ((vanished || nowIno !== liveIno) && attempt < READ_ATTEMPTS) {
          await close();
          continue;
        }
        for (const reason of damaged) this.damaged(file, reason);
        return { handles, settled, lines, rotated: rotated.length, close };
      } catch (e) {
        await close();
        throw e;
      }
    }
  }

  /** One account file's unsettled parked deliveries, read from the snapshot's files a second time: one of each, the oldest files first, each in its order. */
  private async *unsettledIn(snapshot: Snapshot): AsyncGenerator<ParkedDelivery> {
    const seen = new Set<string>();
    for (const handle of snapshot.handles) {
      for await (const line of linesOf(handle, { tail: false })) {
        const fact = typeof line === "string" ? factOf(line) : undefined;
        if (!fact || "settled" in fact) continue;
        const id = idOf(fact.delivery.deliveryId, fact.parkedAt);
        if (snapshot.settled.has(id) || seen.has(id)) continue;
        seen.add(id);
        yield fact;
      }
    }
  }

  /** One account file's unsettled parked deliveries, oldest first. */
  private async read(file: string): Promise<ParkedDelivery[]> {
    const snapshot = await this.snapshot(file);
    try {
      const out: ParkedDelivery[] = [];
      for await (const parked of this.unsettledIn(snapshot)) out.push(parked);
      return sortByAge(out);
    } finally {
      await snapshot.close();
    }
  }

  private damaged(file: string, reason: string): void {
    this.options.onDamaged?.({ file, reason });
  }

  /**
   * The old single file moved in, or its move reported when it fails (and tried again at the
   * next call): a park, a list, a replay of the accounts' files go on without it, never
   * refused for it.
   */
  private async migrated(): Promise<void> {
    await this.migrate().catch((e: unknown) => this.damaged(this.options.legacyFile!, `could not be moved in (${e instanceof Error ? e.message : String(e)}); tried again at the next use`));
  }

  /** Moves the lines of the single file every account once shared into each account's file: its unsettled parked lines, once (the others are dropped). */
  private migrate(): Promise<void> {
    const legacy = this.options.legacyFile;
    if (!legacy) return Promise.resolve();
    let migrated = migrations.get(legacy);
    if (migrated) return migrated;
    migrated = (async () => {
      const claimed = join(this.dir, `legacy.${process.pid}-${counter++}.migrating`);
      await mkdir(this.dir, { recursive: true });
      try {
        // Taken by one process alone; another finds it gone.
        await rename(legacy, claimed);
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
      // Those this process claimed, and those left by a process that stopped part way.
      const names = (await readdir(this.dir)).filter((n) => /^legacy\.\d+-\d+\.migrating$/.test(n));
      for (const name of names) {
        const pid = Number(name.split(".")[1]!.split("-")[0]);
        if (pid !== process.pid && alive(pid)) continue;
        const path = join(this.dir, name);
        const handle = await open(path).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
        if (!handle) continue;
        try {
          // Read twice, streamed, as a compaction reads: the settled ids and damaged lines first, then the unsettled parked lines, appended to their accounts' files as they come.
          const settled = new Set<string>();
          const damaged = new Batches((_, lines) => appendSynced(join(this.dir, "legacy.damaged"), lines));
          for await (const line of linesOf(handle, { tail: true })) {
            const fact = typeof line === "string" ? factOf(line) : undefined;
            if (!fact) await damaged.add("", typeof line === "string" ? line : line.head);
            else if ("settled" in fact) settled.add(idOf(fact.settled.deliveryId, fact.settled.parkedAt));
          }
          if (damaged.count) this.damaged(legacy, `${damaged.count} damaged line(s), kept in ${join(this.dir, "legacy.damaged")}`);
          await damaged.flush();
          const moved = new Batches((file, lines) => appendChecked(file, lines, true));
          const seen = new Set<string>();
          for await (const line of linesOf(handle, { tail: true })) {
            const fact = typeof line === "string" ? factOf(line) : undefined;
            if (!fact || "settled" in fact) continue;
            // Two accounts' deliveries may share an id: each its own.
            const key = `${fact.delivery.alertArn} ${idOf(fact.delivery.deliveryId, fact.parkedAt)}`;
            if (settled.has(idOf(fact.delivery.deliveryId, fact.parkedAt)) || seen.has(key)) continue;
            seen.add(key);
            await moved.add(this.fileOf(arnAccount(fact.delivery.alertArn)), line as string);
          }
          await moved.flush();
        } finally {
          await handle.close();
        }
        await unlink(path).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
      }
    })().catch((e: unknown) => {
      // Tried again by the next call.
      migrations.delete(legacy);
      throw e;
    });
    migrations.set(legacy, migrated);
    return migrated;
  }

  /** The account file's compaction lock, or undefined when a live process holds it. */
  private async lock(file: string): Promise<{ release: () => Promise<void> } | undefined> {
    const lock = `${file}.lock`;
    const token = `${process.pid} ${randomBytes(8).toString("hex")} ${await pidNamespace()}`.trimEnd();
    await mkdir(this.dir, { recursive: true });
    const mine = `${file}.${process.pid}-${counter++}.locking`;
    tokens.add(token);
    let taken = false;
    try {
      await writeFile(mine, token);
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          // Linked whole: a lock is never read half written.
          await link(mine, lock);
          taken = true;
          return {
            release: async () => {
              if ((await readFile(lock, "utf8").catch(() => "")) === token) await unlink(lock).catch(() => undefined);
              tokens.delete(token);
            },
          };
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
        const held = await readFile(lock, "utf8").catch(() => undefined);
        if (held === undefined) continue;
        if (await holding(held)) return undefined;
        // Its process is gone: taken over, once, and only if it is still the lock that was found (another may have taken it over first).
        const stale = `${file}.${process.pid}-${counter++}.stale`;
        await rename(lock, stale).catch(() => undefined);
        const moved = await readFile(stale, "utf8").catch(() => undefined);
        if (moved !== undefined && moved !== held) {
          // A live lock was moved: put back, unless yet another was taken meanwhile.
          await link(stale, lock).catch(() => undefined);
          await unlink(stale).catch(() => undefined);
          return undefined;
        }
        await unlink(stale).catch(() => undefined);
      }
      return undefined;
    } finally {
      if (!taken) tokens.delete(token);
      await unlink(mine).catch(() => undefined);
    }
  }
}

/**
 * Whether the process a lock names still holds it. A lock naming this process's pid is held
 * if it is one of this process's own; else an earlier process with the same pid (restarted
 * as a container's pid 1) left it when it stopped. One taken in another pid namespace
 * (another container over the same folder) cannot be told: held.
 */
async function holding(lock: string): Promise<boolean> {
  const [pid, , namespace] = lock.split(" ");
  const ours = await pidNamespace();
  if (namespace && ours && namespace !== ours) return true;
  if (Number(pid) === process.pid) return tokens.has(lock);
  return alive(Number(pid));
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The account an account's file is named for, as its name holds it (deadLetterFileName): for a file whose lines could not be read. */
const accountOfFile = (file: string) => basename(file).split(".")[0]!;

function factOf(line: string): ParkedDelivery | Settled | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Partial<ParkedDelivery> & Partial<Settled>;
  if (v.settled && typeof v.settled.deliveryId === "string" && typeof v.settled.parkedAt === "number") return v as Settled;
  if (v.delivery && typeof v.delivery.deliveryId === "string" && typeof v.delivery.alertArn === "string" && typeof v.parkedAt === "number") return v as ParkedDelivery;
  return undefined;
}

/** Lines to write, per file, written once they add up to `WRITE_BYTES` (and at `flush`): a fold holds no more. */
class Batches {
  private readonly lines = new Map<string, string[]>();
  private bytes = 0;
  /** Lines added in all. */
  count = 0;

  constructor(private readonly write: (file: string, lines: readonly string[]) => Promise<void>) {}

  async add(file: string, line: string): Promise<void> {
    const lines = this.lines.get(file) ?? [];
    lines.push(line);
    this.lines.set(file, lines);
    this.count++;
    this.bytes += line.length;
    if (this.bytes >= WRITE_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    for (const [file, lines] of this.lines) await this.write(file, lines);
    this.lines.clear();
    this.bytes = 0;
  }
}

/** An account file and its rotated files, open, read once. */
interface Snapshot {
  readonly handles: readonly FileHandle[];
  readonly settled: ReadonlySet<string>;
  readonly lines: number;
  readonly rotated: number;
  readonly close: () => Promise<void>;
}

const sortByAge = (all: ParkedDelivery[]) => all.sort((a, b) => a.parkedAt - b.parkedAt);

/** A line longer than the cap: its first `MAX_LINE_BYTES` bytes, and its length. */
export interface LongLine {
  readonly head: string;
  readonly bytes: number;
}

/**
 * The lines of a file, streamed in Node's 64 KiB chunks: each non-blank line, or for one
 * longer than `cap` its head and length (the rest is passed over, never held). The last
 * line, when the file does not end with a line break, is an append still being written or
 * one cut short: passed over, unless `tail` (a compaction keeps it aside).
 */
export async function* linesOf(handle: FileHandle, options: { readonly tail: boolean; readonly cap?: number }): AsyncGenerator<string | LongLine> {
  const cap = options.cap ?? MAX_LINE_BYTES;
  let held: Buffer[] = [];
  let heldBytes = 0;
  let long = 0;
  const take = (): string | LongLine | undefined => {
    const text = Buffer.concat(held).toString("utf8");
    const result = long ? { head: text, bytes: long } : text.trim() ? text : undefined;
    held = [];
    heldBytes = 0;
    long = 0;
    return result;
  };
  for await (const chunk of handle.createReadStream({ start: 0, autoClose: false }) as AsyncIterable<Buffer>) {
    let from = 0;
    while (from < chunk.length) {
      const end = chunk.indexOf(10, from);
      const piece = chunk.subarray(from, end === -1 ? chunk.length : end);
      if (long) long += piece.length;
      else if (heldBytes + piece.length > cap) {
        const room = cap - heldBytes;
        held.push(Buffer.from(piece.subarray(0, room)));
        long = heldBytes + piece.length;
        heldBytes = cap;
      } else {
        held.push(Buffer.from(piece));
        heldBytes += piece.length;
      }
      if (end === -1) break;
      const line = take();
      if (line !== undefined) yield line;
      from = end + 1;
    }
  }
  if (options.tail && (heldBytes || long)) {
    const line = take();
    if (line !== undefined) yield line;
  }
}

/**
 * Appends `lines` to `file`, and again for as long as the name no longer holds the file
 * written to once the write is done (a compaction renamed it aside meanwhile and may have
 * folded it before the write landed). The name is read before the handle: a handle still
 * linked whose inode the name held is the file the name held after the write.
 */
async function appendChecked(file: string, lines: readonly string[], sync: boolean): Promise<void> {
  for (;;) {
    const handle = await open(file, "a");
    try {
      await writeLines(handle, lines);
      if (sync) await handle.sync();
      const named = await stat(file).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
      const own = await handle.stat();
      if (named && own.nlink > 0 && named.ino === own.ino && named.dev === own.dev) return;
    } finally {
      await handle.close();
    }
  }
}

/** Lines of a write made as one, at most this long (unless one line is longer). */
const WRITE_BYTES = 256 * 1024;

/**
 * Writes whole lines, each write a line break and whole lines (at least one) of
 * `WRITE_BYTES` at most: one write to a file opened for appending is one piece that no other
 * process's write cuts into. (A larger one Node would write in pieces, and another
 * process's line could land in the middle of a line.)
 */
async function writeLines(handle: FileHandle, lines: readonly string[]): Promise<void> {
  let group: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (!group.length) return;
    let buffer = Buffer.from(`\n${group.map((l) => `${l}\n`).join("")}`);
    group = [];
    bytes = 0;
    // A write cut short (a full disk, a signal) is finished by another: the lines it cut are damaged lines, passed over.
    while (buffer.length) buffer = buffer.subarray((await handle.write(buffer)).bytesWritten);
  };
  for (const line of lines) {
    const size = Buffer.byteLength(line) + 1;
    if (bytes + size > WRITE_BYTES) await flush();
    group.push(line);
    bytes += size;
  }
  await flush();
}

async function appendSynced(file: string, lines: readonly string[]): Promise<void> {
  const handle = await open(file, "a");
  try {
    await writeLines(handle, lines);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
