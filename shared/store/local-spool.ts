import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DeliverySchema, type Delivery, type DeliveryQueue } from "../alerts/delivery.ts";
import { isMissing } from "./local-blobs.ts";

/**
 * The delivery queue of `vigil serve`: one file per delivery in a folder (SQS's part in
 * AWS), written atomically, removed once the delivery was sent, found sent or parked. A
 * process that stops leaves what it had not finished here, and the next one sends it, so
 * nothing alerting enqueued is lost. The same delivery enqueued twice is one file.
 */
export class LocalDeliverySpool implements DeliveryQueue {
  private counter = 0;

  constructor(private readonly dir: string) {}

  async enqueue(deliveries: readonly Delivery[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const delivery of deliveries) {
      const tmp = join(this.dir, `.${process.pid}.${this.counter++}.tmp`);
      await writeFile(tmp, JSON.stringify(delivery));
      await rename(tmp, this.file(delivery.deliveryId));
    }
  }

  /** Up to `limit` waiting deliveries, oldest first. A file that does not hold a delivery is set aside, not retried forever. */
  async pending(limit: number): Promise<Delivery[]> {
    const names = await this.names();
    const dated = await Promise.all(names.map(async (n) => ({ n, at: (await stat(join(this.dir, n)).catch(() => undefined))?.mtimeMs })));
    const oldest = dated.filter((d) => d.at !== undefined).sort((a, b) => a.at! - b.at! || a.n.localeCompare(b.n)).slice(0, limit);
    const out: Delivery[] = [];
    for (const { n } of oldest) {
      const text = await readFile(join(this.dir, n), "utf8").catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
      if (text === undefined) continue;
      const parsed = DeliverySchema.safeParse(safeJson(text));
      if (parsed.success) out.push(parsed.data);
      else await rename(join(this.dir, n), join(this.dir, `${n}.unreadable`));
    }
    return out;
  }

  async remove(deliveryId: string): Promise<void> {
    await rm(this.file(deliveryId), { force: true });
  }

  /** How many deliveries wait. */
  async depth(): Promise<number> {
    return (await this.names()).length;
  }

  private async names(): Promise<string[]> {
    const all = await readdir(this.dir).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)));
    return all.filter((n) => n.endsWith(".json"));
  }

  private file(deliveryId: string): string {
    return join(this.dir, `${createHash("sha256").update(deliveryId).digest("hex").slice(0, 40)}.json`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
