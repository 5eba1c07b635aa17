import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { accountInName } from "./account-names.ts";
import { DeliverySchema, type Delivery, type DeliveryQueue } from "../alerts/delivery.ts";
import { arnAccount } from "../model/ids.ts";
import { isMissing } from "./local-blobs.ts";

/**
 * The delivery queue of `vigil serve`: one file per delivery in a folder (SQS's part in
 * AWS), written atomically, removed once the delivery was sent, found sent or parked. A
 * process that stops leaves what it had not finished here, and the next one sends it, so
 * nothing alerting enqueued is lost. The same delivery enqueued twice is one file. A file's
 * name starts with its alert's account, so that tenants can take turns. What waits is
 * listed once (and again when asked, `refresh`), then kept in memory as deliveries are
 * enqueued and removed: a long spool is not listed again at each send. One process owns
 * the folder (`vigil serve` takes it alone).
 */
export class LocalDeliverySpool implements DeliveryQueue {
  private counter = 0;
  /** Each account's waiting files, oldest first (Map order), each with its place in the order all were queued; undefined until first listed. */
  private waiting: Map<string, Map<string, number>> | undefined;
  /** File name → its account. */
  private accounts = new Map<string, string>();
  /** What was enqueued (with its account) or removed (undefined) while the folder is being listed, for each listing under way. */
  private readonly journals = new Set<[string, string | undefined][]>();

  constructor(private readonly dir: string) {}

  async enqueue(deliveries: readonly Delivery[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const delivery of deliveries) {
      const tmp = join(this.dir, `.${process.pid}.${this.counter++}.tmp`);
      await writeFile(tmp, JSON.stringify(delivery));
      const name = nameOf(delivery);
      await rename(tmp, join(this.dir, name));
      this.note(name, spoolAccount(delivery));
    }
  }

  /**
   * Up to `limit` waiting deliveries, those in `except` left out (under either name a file
   * may have): tenants take turns, the one with the fewest `held` (sending already) first,
   * then the one whose oldest waits longest; each tenant's oldest first. A file that does not
   * hold a delivery is set aside, not retried forever.
   */
  async pending(limit: number, options: { readonly except?: Iterable<Delivery>; readonly held?: (account: string) => number } = {}): Promise<Delivery[]> {
    const waiting = this.waiting ?? (await this.refresh());
    // Read once: the loop's is a Map's iterator.
    const except = [...(options.except ?? [])];
    const skip = new Set<string>();
    for (const d of except) skip.add(nameOf(d)).add(olderNameOf(d));
    const out: Delivery[] = [];
    const seen = new Set<string>(except.map((d) => d.deliveryId));
    for (const name of takingTurns(waiting, skip, limit, options.held ?? (() => 0))) {
      // Gone, or not readable (a folder, a file denied): forgotten, so that one bad entry does not stop every tenant's deliveries; a listing again finds it if it comes back readable.
      const text = await readFile(join(this.dir, name), "utf8").catch(() => undefined);
      if (text === undefined) {
        this.forget(name);
        continue;
      }
      const parsed = DeliverySchema.safeParse(safeJson(text));
      if (!parsed.success) {
        await rename(join(this.dir, name), join(this.dir, `${name}.unreadable`)).catch(() => undefined);
        this.forget(name);
      } else if (name !== nameOf(parsed.data) && name !== olderNameOf(parsed.data)) {
        // Under a name not its own (restored from a copy): remove could not take it away once sent, so it is put under its own (a twin already there holds the same delivery).
        const own = nameOf(parsed.data);
        await rename(join(this.dir, name), join(this.dir, own));
        this.forget(name);
        this.note(own, spoolAccount(parsed.data));
        if (!seen.has(parsed.data.deliveryId) && !skip.has(own)) {
          seen.add(parsed.data.deliveryId);
          out.push(parsed.data);
        }
      } else if (!seen.has(parsed.data.deliveryId)) {
        // One delivery under both names (queued again after names carried the account) is handed out once.
        seen.add(parsed.data.deliveryId);
        out.push(parsed.data);
      }
    }
    return out;
  }

  async remove(delivery: Delivery): Promise<void> {
    for (const name of [nameOf(delivery), olderNameOf(delivery)]) {
      await rm(join(this.dir, name), { force: true });
      this.forget(name);
    }
  }

  /** How many deliveries wait: one under both names (queued again after names carried the account) counts once. */
  async depth(): Promise<number> {
    if (!this.waiting) await this.refresh();
    let twins = 0;
    for (const [name, account] of this.accounts) if (accountOf(name) === undefined && this.accounts.has(`${account}.${name}`)) twins++;
    return this.accounts.size - twins;
  }

  /**
   * Lists the folder again, oldest first by modification time. A file named before names
   * carried the account is read for it. What is enqueued or removed while the folder is
   * listed is kept in a journal and played over the new listing, so that nothing enqueued
   * between the listing and the new index is left out (nor anything removed then put back).
   */
  async refresh(): Promise<Map<string, Map<string, number>>> {
    const journal: [string, string | undefined][] = [];
    this.journals.add(journal);
    try {
      const all = await readdir(this.dir).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)));
      const dated = await Promise.all(all.filter((n) => n.endsWith(".json")).map(async (n) => ({ n, at: (await stat(join(this.dir, n)).catch(() => undefined))?.mtimeMs })));
      const present = dated.filter((d): d is { n: string; at: number } => d.at !== undefined).sort((a, b) => a.at - b.at || a.n.localeCompare(b.n));
      const index: Index = { waiting: new Map(), accounts: new Map() };
      for (const { n } of present) add(index, n, accountOf(n) ?? (await this.accountInside(n)));
      for (const [name, account] of journal) if (account === undefined) drop(index, name);
      else add(index, name, account);
      this.waiting = index.waiting;
      this.accounts = index.accounts;
      return index.waiting;
    } finally {
      this.journals.delete(journal);
    }
  }

  private async accountInside(name: string): Promise<string> {
    const parsed = DeliverySchema.safeParse(safeJson(await readFile(join(this.dir, name), "utf8").catch(() => "")));
    return parsed.success ? spoolAccount(parsed.data) : "";
  }

  private note(name: string, account: string): void {
    for (const journal of this.journals) journal.push([name, account]);
    if (this.waiting) add({ waiting: this.waiting, accounts: this.accounts }, name, account);
  }

  private forget(name: string): void {
    for (const journal of this.journals) journal.push([name, undefined]);
    if (this.waiting) drop({ waiting: this.waiting, accounts: this.accounts }, name);
  }
}

interface Index {
  readonly waiting: Map<string, Map<string, number>>;
  readonly accounts: Map<string, string>;
}

/** The order deliveries were queued in (listed, or enqueued since). */
let queued = 0;

function add(index: Index, name: string, account: string): void {
  if (index.accounts.has(name)) return;
  index.accounts.set(name, account);
  const queue = index.waiting.get(account);
  const at = queued++;
  if (queue) queue.set(name, at);
  else index.waiting.set(account, new Map([[name, at]]));
}

function drop(index: Index, name: string): void {
  const account = index.accounts.get(name);
  if (account === undefined) return;
  index.accounts.delete(name);
  const queue = index.waiting.get(account);
  queue?.delete(name);
  if (queue?.size === 0) index.waiting.delete(account);
}

const hashOf = (deliveryId: string) => createHash("sha256").update(deliveryId).digest("hex").slice(0, 40);
/** The account a delivery is queued under: its alert's, as it may stand in a file name. */
export const spoolAccount = (delivery: Pick<Delivery, "alertArn">) => accountInName(arnAccount(delivery.alertArn));
/** `<account>.<hash of the id>.json`. */
const nameOf = (delivery: Pick<Delivery, "deliveryId" | "alertArn">) => `${spoolAccount(delivery)}.${hashOf(delivery.deliveryId)}.json`;
/** `<hash of the id>.json`: a file's name before names carried the account. */
const olderNameOf = (delivery: Pick<Delivery, "deliveryId">) => `${hashOf(delivery.deliveryId)}.json`;
/** The account a spool file's name starts with; undefined for a name without one. */
const accountOf = (name: string) => {
  const dot = name.indexOf(".");
  return dot === name.length - 5 ? undefined : name.slice(0, dot);
};

/** Up to `limit` names not in `skip`, tenants taking turns (fewest held first, then the one whose oldest waits longest), each tenant's oldest first. */
function takingTurns(waiting: ReadonlyMap<string, ReadonlyMap<string, number>>, skip: ReadonlySet<string>, limit: number, held: (account: string) => number): string[] {
  const tenants: { next: string; rank: number; rest: Iterator<[string, number]>; taken: number }[] = [];
  for (const [account, queue] of waiting) {
    const rest = queue.entries();
    const next = nextNotIn(rest, skip);
    if (next !== undefined) tenants.push({ next: next[0], rank: next[1], rest, taken: held(account) });
  }
  const out: string[] = [];
  while (out.length < limit && tenants.length) {
    let best = 0;
    for (let i = 1; i < tenants.length; i++) {
      const [a, b] = [tenants[i]!, tenants[best]!];
      if (a.taken < b.taken || (a.taken === b.taken && a.rank < b.rank)) best = i;
    }
    const tenant = tenants[best]!;
    out.push(tenant.next);
    tenant.taken++;
    const next = nextNotIn(tenant.rest, skip);
    if (next === undefined) tenants.splice(best, 1);
    else [tenant.next, tenant.rank] = next;
  }
  return out;
}

function nextNotIn(names: Iterator<[string, number]>, skip: ReadonlySet<string>): [string, number] | undefined {
  for (let n = names.next(); !n.done; n = names.next()) if (!skip.has(n.value[0])) return n.value;
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
