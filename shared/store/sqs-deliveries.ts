import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Delivery, DeliveryQueue } from "../alerts/delivery.ts";
import { Coalescer } from "./coalesce.ts";

/** SQS takes at most ten messages per batch. */
const BATCH = 10;

/** Deliveries on an SQS queue, which the deliver function consumes; those enqueued at once share batches of ten. */
export class SqsDeliveryQueue implements DeliveryQueue {
  private readonly sender: Coalescer<string>;

  constructor(client: SQSClient, queueUrl: string) {
    // A body SQS refuses fails the call (and the batch it came in).
    this.sender = new Coalescer(BATCH, async (bodies) => {
      const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((MessageBody, j) => ({ Id: String(j), MessageBody })) }));
      if (out.Failed?.length) throw new Error(`SQS refused ${out.Failed.length} deliveries: ${out.Failed.map((f) => `${f.Code} ${f.Message ?? ""}`).join("; ")}`);
    });
  }

  enqueue(deliveries: readonly Delivery[]): Promise<void> {
    return this.sender.add(deliveries.map((d) => JSON.stringify(d)));
  }
}
