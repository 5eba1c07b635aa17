import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DeadLetters, Delivery, DeliveryQueue, ParkedDelivery } from "../alerts/delivery.ts";

/** SQS takes at most ten messages per batch. */
const BATCH = 10;

/** Deliveries on an SQS queue, which the deliver function consumes. */
export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(deliveries: readonly Delivery[]): Promise<void> {
    for (let i = 0; i < deliveries.length; i += BATCH) {
      const chunk = deliveries.slice(i, i + BATCH);
      const out = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: chunk.map((d, j) => ({ Id: String(j), MessageBody: JSON.stringify(d) })) }),
      );
      if (out.Failed?.length) throw new Error(`SQS refused ${out.Failed.length} deliveries: ${out.Failed.map((f) => `${f.Code} ${f.Message ?? ""}`).join("; ")}`);
    }
  }
}

/** A message of the dead-letter queue: parked by delivery, or moved there by the queue's redrive policy after repeated crashes. */
export function parkedOf(body: string, now: number): ParkedDelivery {
  const value = JSON.parse(body) as ParkedDelivery | Delivery;
  return "delivery" in value ? value : { delivery: value, reason: "UNHANDLED", detail: "delivery failed on it until the queue moved it here", attempts: 0, parkedAt: now };
}

/** The delivery queue's dead-letter queue: parked deliveries wait there for `vigil replay`. */
export class SqsDeadLetters implements DeadLetters {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly now: () => number,
  ) {}

  async park(parked: ParkedDelivery): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(parked) }));
  }

  async drain(retry: (parked: ParkedDelivery) => Promise<boolean>): Promise<{ retried: number; remaining: number }> {
    let retried = 0;
    let remaining = 0;
    for (;;) {
      // Messages that fail stay invisible for the rest of the drain, then come back for the next one.
      const out = await this.client.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: BATCH, WaitTimeSeconds: 0, VisibilityTimeout: 900 }));
      if (!out.Messages?.length) return { retried, remaining };
      for (const m of out.Messages) {
        if (await retry(parkedOf(m.Body ?? "{}", this.now()))) {
          await this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }));
          retried++;
        } else remaining++;
      }
    }
  }
}
