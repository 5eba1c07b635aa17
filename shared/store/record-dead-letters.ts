import type { DeadLetters, DrainOptions, ParkedDelivery } from "../alerts/delivery.ts";
import { arnAccount } from "../model/ids.ts";
import type { RecordStore } from "./records.ts";

/** Parked deliveries are kept as long as SQS keeps a message at most (where they once waited). */
export const PARKED_RETENTION_MS = 14 * 86_400_000;

/** Parked deliveries retried at once, and read per request: a drain holds no more than this in hand. */
export const PARKED_PAGE = 25;

/** `<account>/<delivery id>`: an account's parked deliveries share a prefix; a delivery parked again replaces itself. */
const keyOf = (parked: ParkedDelivery) => `${arnAccount(parked.delivery.alertArn)}/${parked.delivery.deliveryId}`;

/**
 * The AWS mode's dead letters: one record per parked delivery in the record table, filed
 * under its alert's account. A drain reads only the account it is given (every account's
 * for the operator), a page at a time, and holds nothing: what it leaves is there for any
 * other drain at once, a concurrent one of another tenant included, and a tenant pays for
 * its own parked deliveries alone. Deliveries parked at once share BatchWriteItem requests
 * (the store batches puts).
 */
export class RecordDeadLetters implements DeadLetters {
  constructor(private readonly records: RecordStore) {}

  park(parked: ParkedDelivery): Promise<void> {
    return this.records.put("parked", keyOf(parked), parked, { expiresAt: parked.parkedAt + PARKED_RETENTION_MS });
  }

  /**
   * Each page is retried at once (deliveries keep to their channels' limits), and what was
   * sent is deleted. A retry that throws leaves its delivery parked; the page's other
   * outcomes stand, and that account is retried no further: an account's drain reads no
   * page after it, the operator's goes on with the other accounts (one tenant's failing
   * delivery does not hold back another's). The first such failure is thrown at the end.
   */
  async drain(retry: (parked: ParkedDelivery) => Promise<boolean>, options: DrainOptions = {}): Promise<{ retried: number; remaining: number }> {
    let retried = 0;
    let remaining = 0;
    let cursor: string | undefined;
    // Accounts whose retry threw, and the first failure: thrown once the other accounts are drained.
    const stopped = new Set<string>();
    let failure: PromiseRejectedResult | undefined;
    do {
      if (options.signal?.aborted) break;
      const page = await this.records.listPage<ParkedDelivery>("parked", { ...(options.account ? { prefix: `${options.account}/` } : {}), limit: PARKED_PAGE, ...(cursor ? { cursor } : {}) });
      const items = page.items.filter((parked) => !stopped.has(arnAccount(parked.delivery.alertArn)));
      const settled = await Promise.allSettled(items.map((parked) => retry(parked)));
      const sent = items.filter((_, i) => settled[i]!.status === "fulfilled" && (settled[i] as PromiseFulfilledResult<boolean>).value);
      // Deleted only once sent (its record of being sent is kept): one a failed delete leaves is found sent by the next drain, and dropped.
      const deleted = await Promise.allSettled(sent.map((parked) => this.records.delete("parked", keyOf(parked))));
      const gone = deleted.filter((d) => d.status === "fulfilled").length;
      retried += gone;
      remaining += page.items.length - gone;
      settled.forEach((r, i) => {
        if (r.status === "rejected") stopped.add(arnAccount(items[i]!.delivery.alertArn));
      });
      failure ??= settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure && options.account) break;
      cursor = page.cursor;
    } while (cursor);
    if (failure) throw failure.reason;
    return { retried, remaining };
  }
}
