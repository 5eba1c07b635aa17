import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { DeadLetters, ParkedDelivery } from "../alerts/delivery.ts";
import { isMissing } from "./local-blobs.ts";

/** A line that settles a parked delivery: it was sent, or found sent, by a replay. */
interface Settled {
  readonly settled: { readonly deliveryId: string; readonly parkedAt: number };
}

const idOf = (deliveryId: string, parkedAt: number) => `${parkedAt} ${deliveryId}`;

/**
 * The local mode's dead-letter queue: one file that is only ever appended to, one JSON line
 * per parked delivery and one per parked delivery a replay settled. Any number of
 * processes may park and replay at once: each line is one append, so none is lost or
 * overwritten, and what is still parked is what was parked and not settled since.
 */
export class LocalDeadLetters implements DeadLetters {
  constructor(private readonly file: string) {}

  async park(parked: ParkedDelivery): Promise<void> {
    await this.append(parked);
  }

  /** The deliveries parked and not settled, oldest first. */
  async list(): Promise<ParkedDelivery[]> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
    const lines = text
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as ParkedDelivery | Settled);
    const settled = new Set(lines.flatMap((l) => ("settled" in l ? [idOf(l.settled.deliveryId, l.settled.parkedAt)] : [])));
    return lines.filter((l): l is ParkedDelivery => !("settled" in l) && !settled.has(idOf(l.delivery.deliveryId, l.parkedAt)));
  }

  async drain(retry: (parked: ParkedDelivery) => Promise<boolean>): Promise<{ retried: number; remaining: number }> {
    let retried = 0;
    let remaining = 0;
    for (const parked of await this.list()) {
      if (await retry(parked)) {
        await this.append({ settled: { deliveryId: parked.delivery.deliveryId, parkedAt: parked.parkedAt } } satisfies Settled);
        retried++;
      } else remaining++;
    }
    return { retried, remaining };
  }

  /** One write per line, opened for appending: lines of concurrent writers never interleave. */
  private async append(line: ParkedDelivery | Settled): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(line)}\n`);
  }
}
