import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DeadLetters, Delivery, DeliveryQueue, ParkedDelivery } from "../alerts/delivery.ts";
import { Coalescer } from "./coalesce.ts";

/** SQS takes at most ten messages per batch. */
const BATCH = 10;

/** Sends bodies in batches of ten; a body SQS refuses fails the call (and the batch it came in). */
function batchSender(client: SQSClient, queueUrl: string, what: string): Coalescer<string> {
  return new Coalescer(BATCH, async (bodies) => {
    const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((MessageBody, j) => ({ Id: String(j), MessageBody })) }));
    if (out.Failed?.length) throw new Error(`SQS refused ${out.Failed.length} ${what}: ${out.Failed.map((f) => `${f.Code} ${f.Message ?? ""}`).join("; ")}`);
  });
}

/** Deliveries on an SQS queue, which the deliver function consumes; those enqueued at once share batches. */
export class SqsDeliveryQueue implements DeliveryQueue {
  private readonly sender: Coalescer<string>;

  constructor(client: SQSClient, queueUrl: string) {
    this.sender = batchSender(client, queueUrl, "deliveries");
  }

  enqueue(deliveries: readonly Delivery[]): Promise<void> {
    return this.sender.add(deliveries.map((d) => JSON.stringify(d)));
  }
}

/** A message of the dead-letter queue: parked by delivery, or moved there by the queue's redrive policy after repeated crashes. */
export function parkedOf(body: string, now: number): ParkedDelivery {
  const value = JSON.parse(body) as ParkedDelivery | Delivery;
  return "delivery" in value ? value : { delivery: value, reason: "UNHANDLED", detail: "delivery failed on it until the queue moved it here", attempts: 0, parkedAt: now };
}

/** The delivery queue's dead-letter queue: parked deliveries wait there for `vigil replay`; those parked at once share batches. */
export class SqsDeadLetters implements DeadLetters {
  private readonly sender: Coalescer<string>;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly now: () => number,
  ) {
    this.sender = batchSender(client, queueUrl, "parked deliveries");
  }

  park(parked: ParkedDelivery): Promise<void> {
    return this.sender.add([JSON.stringify(parked)]);
  }

  /**
   * Each received batch is retried at once (deliveries keep to their channels' limits), and
   * what was sent is deleted in one call. What stays (failed again, or not the caller's: a
   * tenant replays its own) is held invisible while the drain lasts, so it ends, then made
   * visible again at once: another tenant's replay finds its deliveries there, not hidden
   * for the visibility timeout.
   */
  async drain(retry: (parked: ParkedDelivery) => Promise<boolean>): Promise<{ retried: number; remaining: number }> {
    let retried = 0;
    let remaining = 0;
    const held: string[] = [];
    try {
      for (;;) {
        const out = await this.client.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: BATCH, WaitTimeSeconds: 0, VisibilityTimeout: 900 }));
        if (!out.Messages?.length) return { retried, remaining };
        const done = await Promise.all(out.Messages.map((m) => retry(parkedOf(m.Body ?? "{}", this.now()))));
        const sent = out.Messages.filter((_, i) => done[i]);
        held.push(...out.Messages.filter((_, i) => !done[i]).map((m) => m.ReceiptHandle ?? ""));
        remaining += out.Messages.length - sent.length;
        if (!sent.length) continue;
        const deleted = await this.client.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: sent.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
        // One SQS could not delete comes back later, to be found already sent and dropped.
        retried += sent.length - (deleted.Failed?.length ?? 0);
        remaining += deleted.Failed?.length ?? 0;
      }
    } finally {
      await this.release(held);
    }
  }

  /** Makes held messages visible again now; one SQS could not release comes back after its timeout, as before. */
  private async release(receipts: readonly string[]): Promise<void> {
    for (let i = 0; i < receipts.length; i += BATCH) {
      const batch = receipts.slice(i, i + BATCH);
      await this.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((ReceiptHandle, k) => ({ Id: String(k), ReceiptHandle, VisibilityTimeout: 0 })) })).catch(() => undefined);
    }
  }
}
