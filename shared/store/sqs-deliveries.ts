import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Delivery, DeliveryQueue } from "../alerts/delivery.ts";
import { Coalescer } from "./coalesce.ts";

/** SQS takes at most ten messages per batch. */
const BATCH = 10;
/**
 * And a batch of at most its queue's largest message in all (1 MiB since August 2025, 256 KiB
 * for a queue made before): batches are kept within the smaller, a larger delivery goes alone.
 */
export const BATCH_BYTES = 256 * 1024;

/**
 * Deliveries on an SQS queue, which the deliver function consumes; those enqueued at once
 * (any tenants' events routed together) share batches of ten and of BATCH_BYTES. An entry
 * SQS refuses fails its own enqueue only, not the others of its batch.
 */
export class SqsDeliveryQueue implements DeliveryQueue {
  private readonly sender: Coalescer<string>;

  constructor(client: SQSClient, queueUrl: string) {
    this.sender = new Coalescer(
      BATCH,
      async (bodies) => {
        const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((MessageBody, j) => ({ Id: String(j), MessageBody })) }));
        const refused = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        return bodies.map((_, j) => {
          const f = refused.get(String(j));
          return f && new Error(`SQS refused the delivery: ${f.Code} ${f.Message ?? ""}`);
        });
      },
      { sizeOf: (body) => Buffer.byteLength(body), max: BATCH_BYTES },
    );
  }

  enqueue(deliveries: readonly Delivery[]): Promise<void> {
    return this.sender.add(deliveries.map((d) => JSON.stringify(d)));
  }
}
