import type { DeadLetters, Delivery, DrainOptions, ParkedDelivery } from "../alerts/delivery.ts";
import { drainFailure, type DrainCounts, type StoppedAccount } from "../alerts/replay.ts";
import { arnAccount } from "../model/ids.ts";
import { prefixEnd } from "./record-indexes.ts";
import type { RecordStore } from "./records.ts";

/** Parked deliveries are kept as long as SQS keeps a message at most (where they once waited). */
export const PARKED_RETENTION_MS = 14 * 86_400_000;

/** Parked deliveries retried at once, and read per request: a drain holds no more than this in hand. */
export const PARKED_PAGE = 25;

/** `<account>/<delivery id>`: an account's parked deliveries share a prefix; a delivery parked again replaces itself. */
const keyOf = (parked: Pick<ParkedDelivery, "delivery">) => `${arnAccount(parked.delivery.alertArn)}/${parked.delivery.deliveryId}`;

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

  async holds(delivery: Delivery): Promise<boolean> {
    return (await this.records.get("parked", keyOf({ delivery }))) !== undefined;
  }

  park(parked: ParkedDelivery): Promise<void> {
    return this.records.put("parked", keyOf(parked), parked, { expiresAt: parked.parkedAt + PARKED_RETENTION_MS });
  }

  /**
   * Each page is retried at once (deliveries keep to their channels' limits), and what was
   * sent is deleted. A retry that throws leaves its delivery parked; the page's other
   * outcomes stand, and its account is retried no further: an account's drain reads no page
   * after it and throws the failure; the operator's skips past the account's other parked
   * deliveries without reading them and goes on with the other accounts (one tenant's
   * failing delivery does not hold back another's), then throws ReplayIncomplete.
   */
  async drain(retry: (parked: ParkedDelivery) => Promise<boolean>, options: DrainOptions = {}): Promise<DrainCounts> {
    let retried = 0;
    let remaining = 0;
    const stopped: StoppedAccount[] = [];
    let from: { cursor: string } | { after: string } | undefined;
    for (;;) {
      if (options.signal?.aborted) break;
      const page = await this.records.listPage<ParkedDelivery>("parked", { ...(options.account !== undefined ? { prefix: `${options.account}/` } : {}), limit: PARKED_PAGE, ...from });
      const settled = await Promise.allSettled(page.items.map((parked) => retry(parked)));
      const sent = page.items.filter((_, i) => settled[i]!.status === "fulfilled" && (settled[i] as PromiseFulfilledResult<boolean>).value);
      // Deleted only once sent (its record of being sent is kept): one a failed delete leaves is found sent by the next drain, and dropped.
      const deleted = await Promise.allSettled(sent.map((parked) => this.records.delete("parked", keyOf(parked))));
      const gone = deleted.filter((d) => d.status === "fulfilled").length;
      deleted.forEach((d, i) => {
        if (d.status === "rejected") options.onKept?.(sent[i]!, `sent, but its parked record could not be removed (${d.reason instanceof Error ? d.reason.message : String(d.reason)}): the next replay finds it sent and removes it`);
      });
      retried += gone;
      remaining += page.items.length - gone;
      // An account's first failure stops it; ids start with the account, so its parked deliveries come in a row.
      settled.forEach((r, i) => {
        const account = arnAccount(page.items[i]!.delivery.alertArn);
        if (r.status === "rejected" && !stopped.some((s) => s.account === account)) stopped.push({ account, failure: r.reason });
      });
      if (!page.cursor || (stopped.length && options.account !== undefined)) break;
      // The page ends inside a stopped account: the next one starts past it. (A page may hold no record the store could read.)
      const last = page.items.at(-1);
      const lastAccount = last && arnAccount(last.delivery.alertArn);
      // Past every `account/…` id (prefixEnd: no id is that string itself, for every id holds a '/').
      const past = lastAccount !== undefined && stopped.some((s) => s.account === lastAccount) ? prefixEnd(`${lastAccount}/`) : undefined;
      from = past !== undefined ? { after: past } : { cursor: page.cursor };
    }
    const counts = { retried, remaining };
    const failure = drainFailure(options, stopped, counts);
    if (failure) throw failure.thrown;
    return counts;
  }
}
