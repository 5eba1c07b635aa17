import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DeliverySchema, type Delivery, type DeliveryQueue } from "../alerts/delivery.ts";
import { arnAccount } from "../model/ids.ts";
import { isMissing } from "./local-blobs.ts";

/**
 * The delivery queue of `vigil serve`: one file per delivery in a folder (SQS's part in
 * AWS), written atomically, removed once the delivery was sent, found sent or parked. A
 * process that stops leaves what it had not finished here, and the next one sends it, so
 * nothing alerting enqueued is lost. The same delivery enqueued twice is one file. A file's
 * name starts with its alert's account, so what waits can be shared fairly between tenants
 * without reading every file.
 */
export class LocalDeliverySpool implements DeliveryQueue {
  private counter = 0;

  constructor(private readonly dir: string) {}

  async enqueue(deliveries: readonly Delivery[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const delivery of deliveries) {
      const tmp = join(this.dir, `.${process.pid}.${this.counter++}.tmp`);
      await writeFile(tmp, JSON.stringify(delivery));
      await rename(tmp, join(this.dir, nameOf(delivery)));
    }
  }

  /**
   * Up to `limit` waiting deliveries, those in `except` (by id) left out: tenants take turns,
   * the one with the fewest `held` (sending already) first, then the one whose oldest waits
   * longest; each tenant's oldest first. A file that does not hold a delivery is set aside,
   * not retried forever.
   */
  async pending(limit: number, options: { readonly except?: Iterable<Delivery>; readonly held?: (account: string) => number } = {}): Promise<Delivery[]> {
    const skip = new Set(Array.from(options.except ?? [], nameOf));
    const names = (await this.names()).filter((n) => !skip.has(n));
    const dated = await Promise.all(names.map(async (n) => ({ n, at: (await stat(join(this.dir, n)).catch(() => undefined))?.mtimeMs })));
    const out: Delivery[] = [];
    for (const n of takingTurns(dated, limit, options.held ?? (() => 0))) {
      const text = await readFile(join(this.dir, n), "utf8").catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
      if (text === undefined) continue;
      const parsed = DeliverySchema.safeParse(safeJson(text));
      if (parsed.success) out.push(parsed.data);
      else await rename(join(this.dir, n), join(this.dir, `${n}.unreadable`));
    }
    return out;
  }

  async remove(delivery: Delivery): Promise<void> {
    await rm(join(this.dir, nameOf(delivery)), { force: true });
    // Named as before accounts were part of the name.
    await rm(join(this.dir, `${hashOf(delivery.deliveryId)}.json`), { force: true });
  }

  /** How many deliveries wait. */
  async depth(): Promise<number> {
    return (await this.names()).length;
  }

  private async names(): Promise<string[]> {
    const all = await readdir(this.dir).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)));
    return all.filter((n) => n.endsWith(".json"));
  }
}

const hashOf = (deliveryId: string) => createHash("sha256").update(deliveryId).digest("hex").slice(0, 40);
/** The account a delivery is queued under: its alert's, as it may stand in a file name. */
export const spoolAccount = (delivery: Pick<Delivery, "alertArn">) => arnAccount(delivery.alertArn).replace(/[^0-9A-Za-z_-]/g, "").slice(0, 64);
/** `<account>.<hash of the id>.json`. */
const nameOf = (delivery: Pick<Delivery, "deliveryId" | "alertArn">) => `${spoolAccount(delivery)}.${hashOf(delivery.deliveryId)}.json`;
/** The account a spool file's name starts with ("" for a name without one). */
const accountOf = (name: string) => {
  const dot = name.indexOf(".");
  return dot === name.length - 5 ? "" : name.slice(0, dot);
};

/** Up to `limit` names, tenants taking turns (fewest held first, then oldest waiting), each tenant's oldest first. */
function takingTurns(dated: readonly { n: string; at: number | undefined }[], limit: number, held: (account: string) => number): string[] {
  const queues = new Map<string, { n: string; at: number }[]>();
  for (const { n, at } of dated) {
    if (at === undefined) continue;
    const account = accountOf(n);
    const queue = queues.get(account);
    if (queue) queue.push({ n, at });
    else queues.set(account, [{ n, at }]);
  }
  for (const queue of queues.values()) queue.sort((a, b) => a.at - b.at || a.n.localeCompare(b.n));
  const tenants = [...queues].map(([account, queue]) => ({ queue, taken: held(account), next: 0 }));
  const out: string[] = [];
  while (out.length < limit && tenants.length) {
    let best = 0;
    for (let i = 1; i < tenants.length; i++) {
      const [a, b] = [tenants[i]!, tenants[best]!];
      if (a.taken < b.taken || (a.taken === b.taken && a.queue[a.next]!.at < b.queue[b.next]!.at)) best = i;
    }
    const tenant = tenants[best]!;
    out.push(tenant.queue[tenant.next++]!.n);
    tenant.taken++;
    if (tenant.next === tenant.queue.length) tenants.splice(best, 1);
  }
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
