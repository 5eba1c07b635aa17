import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../../shared/alerts/delivery.ts";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { SqsDeliveryQueue } from "../../../shared/store/sqs-deliveries.ts";
import { alertNamed, anomalyGroupEvent } from "../../builders.ts";
import { startFakeSqs } from "../../fakes/sqs-server.ts";

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
});
