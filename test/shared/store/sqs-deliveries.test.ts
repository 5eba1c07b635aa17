import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../../shared/alerts/delivery.ts";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { SqsDeliveryQueue } from "../../../shared/store/sqs-deliveries.ts";
import { alertNamed, anomalyGroupEvent } from "../../builders.ts";
import { FAKE_SQS_MAX_BYTES, startFakeSqs } from "../../fakes/sqs-server.ts";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const delivery = (revision: number): Delivery => {
  const message = alertMessage(alertNamed("a"), anomalyGroupEvent({ revision }), "first", "x");
  return { deliveryId: message.deliveryId, alertArn: message.alert.arn, message };
};

describe("SQS delivery queue, through the SDK against a local SQS", () => {
  it("enqueues deliveries in batches of ten", async () => {
    const sqs = await startFakeSqs(["deliveries"]);
    const queue = new SqsDeliveryQueue(new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials }), sqs.queueUrl("deliveries"));
    const many = Array.from({ length: 23 }, (_, i) => delivery(i + 1));
    await queue.enqueue(many);
    expect(sqs.messages("deliveries").map((m) => (JSON.parse(m.body) as Delivery).deliveryId)).toEqual(many.map((d) => d.deliveryId));
  });

  it("keeps a batch within the queue's largest message: one tenant's large deliveries fail neither another's nor each other, and one too large for the queue fails alone", async () => {
    const sqs = await startFakeSqs(["deliveries"]);
    const queue = new SqsDeliveryQueue(new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials }), sqs.queueUrl("deliveries"));
    const sized = (revision: number, chars: number): Delivery => {
      const d = delivery(revision);
      return { ...d, message: { ...d.message, alert: { ...d.message.alert, description: "x".repeat(chars) } } };
    };
    // Eight of one tenant's, of about 135 KB each, and another's small one, routed in the same turn.
    const large = Array.from({ length: 8 }, (_, i) => sized(i + 1, 135_000));
    const small = delivery(100);
    const tooLarge = sized(200, FAKE_SQS_MAX_BYTES + 1);
    const outcomes = await Promise.allSettled([queue.enqueue(large), queue.enqueue([small]), queue.enqueue([tooLarge])]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    expect(sqs.messages("deliveries").map((m) => (JSON.parse(m.body) as Delivery).deliveryId).sort()).toEqual([...large, small].map((d) => d.deliveryId).sort());
  });
});
