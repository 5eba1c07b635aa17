import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { DeadLetters, DrainOptions, ParkedDelivery } from "../alerts/delivery.ts";
import { arnAccount } from "../model/ids.ts";
import { Coalescer } from "./coalesce.ts";
import { isMissing } from "./local-blobs.ts";

/** A line that settles a parked delivery: it was sent, or found sent, by a replay. */
interface Settled {
  readonly settled: { readonly deliveryId: string; readonly parkedAt: number };
}

const idOf = (deliveryId: string, parkedAt: number) => `${parkedAt} ${deliveryId}`;

/**
 * The local mode's dead-letter queue: one file that is only ever appended to, one JSON line
 * per parked delivery and one per parked delivery a replay settled (a line an append left
 * cut short is passed over). Any number of processes may park and replay at once: lines
 * are only appended, so none is lost or
 * overwritten, and what is still parked is what was parked and not settled since. Lines
 * written at about the same time (deliveries parked at once) go in one append.
 */
export class LocalDeadLetters implements DeadLetters {
  private readonly appender: Coalescer<ParkedDelivery | Settled>;

  constructor(private readonly file: string) {
    // One write per batch, opened for appending: lines of concurrent writers never interleave.
    // Each batch starts on a line of its own: one an earlier append left cut short (a full disk) ends there, and spoils no line after it.
    this.appender = new Coalescer(1_000, async (lines) => {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, `\n${lines.map((l) => `${JSON.stringify(l)}\n`).join("")}`);
    });
  }

  park(parked: ParkedDelivery): Promise<void> {
    return this.appender.add([parked]);
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
    // A line an append cut short is not JSON: it is passed over (and left in the file), the others read.
    const lines = text
      .split("\n")
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as ParkedDelivery | Settled];
        } catch {
          return [];
        }
      });
    const settled = new Set(lines.flatMap((l) => ("settled" in l ? [idOf(l.settled.deliveryId, l.settled.parkedAt)] : [])));
    return lines.filter((l): l is ParkedDelivery => !("settled" in l) && !settled.has(idOf(l.delivery.deliveryId, l.parkedAt)));
  }

  /**
   * Every parked delivery of the account (of all accounts when none is given) is retried at
   * once (deliveries keep to their channels' limits); each one sent is settled as it is.
   * Nothing is held: a concurrent drain, of this account or another, reads every line too.
   */
  async drain(retry: (parked: ParkedDelivery) => Promise<boolean>, options: DrainOptions = {}): Promise<{ retried: number; remaining: number }> {
    const parked = (await this.list()).filter((p) => !options.account || arnAccount(p.delivery.alertArn) === options.account);
    const done = await Promise.all(
      parked.map(async (parked) => {
        if (!(await retry(parked))) return false;
        await this.appender.add([{ settled: { deliveryId: parked.delivery.deliveryId, parkedAt: parked.parkedAt } }]);
        return true;
      }),
    );
    const retried = done.filter(Boolean).length;
    return { retried, remaining: done.length - retried };
  }
}
