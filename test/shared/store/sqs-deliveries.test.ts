import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { Delivery, ParkedDelivery } from "../../../shared/alerts/delivery.ts";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { SqsDeadLetters, SqsDeliveryQueue } from "../../../shared/store/sqs-deliveries.ts";
import { alertNamed, anomalyGroupEvent, T0 } from "../../builders.ts";
import { startFakeSqs } from "../../fakes/sqs-server.ts";

const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const delivery = (revision: number): Delivery => {
  const message = alertMessage(alertNamed("a"), anomalyGroupEvent({ revision }), "first", "x");
  return { deliveryId: message.deliveryId, alertArn: message.alert.arn, message };
};

describe("SQS delivery queue and dead letters, through the SDK against a local SQS", () => {
  it("enqueues deliveries in batches of ten", async () => {
    const sqs = await startFakeSqs(["deliveries"]);
    const queue = new SqsDeliveryQueue(new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials }), sqs.queueUrl("deliveries"));
    const many = Array.from({ length: 23 }, (_, i) => delivery(i + 1));
    await queue.enqueue(many);
    expect(sqs.messages("deliveries").map((m) => (JSON.parse(m.body) as Delivery).deliveryId)).toEqual(many.map((d) => d.deliveryId));
  });

  it("parks, and drains: what is retried leaves, what fails stays for the next drain", async () => {
    const sqs = await startFakeSqs(["dead"]);
    const dead = new SqsDeadLetters(new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials }), sqs.queueUrl("dead"), () => T0);
    const parked = (d: Delivery): ParkedDelivery => ({ delivery: d, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
    for (let r = 1; r <= 12; r++) await dead.park(parked(delivery(r)));
    const seen: string[] = [];
    const result = await dead.drain(async (p) => (seen.push(p.delivery.deliveryId), !p.delivery.deliveryId.endsWith("#3")));
    expect(result).toEqual({ retried: 11, remaining: 1 });
    expect(seen).toHaveLength(12);
    expect(sqs.messages("dead")).toHaveLength(1);
  });

  it("makes what a drain leaves visible again at once: one tenant's replay does not hide another's parked deliveries", async () => {
    const sqs = await startFakeSqs(["dead"]);
    const dead = new SqsDeadLetters(new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials }), sqs.queueUrl("dead"), () => T0);
    for (let r = 1; r <= 14; r++) await dead.park({ delivery: delivery(r), reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
    // The first drain takes only its own (odd revisions); the rest stay, visible for the next one straight away.
    const mine = (p: ParkedDelivery) => Number(p.delivery.deliveryId.split("#").pop()) % 2 === 1;
    expect(await dead.drain(async (p) => mine(p))).toEqual({ retried: 7, remaining: 7 });
    expect(sqs.messages("dead").map((m) => m.visible)).toEqual(Array.from({ length: 7 }, () => true));
    const seen: string[] = [];
    expect(await dead.drain(async (p) => (seen.push(p.delivery.deliveryId), true))).toEqual({ retried: 7, remaining: 0 });
    expect(seen).toHaveLength(7);
    expect(sqs.messages("dead")).toEqual([]);
  });

  it("takes a raw delivery moved there by the redrive policy as parked for an unhandled failure", async () => {
    const sqs = await startFakeSqs(["deliveries", "dead"]);
    const client = new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials });
    await new SqsDeliveryQueue(client, sqs.queueUrl("dead")).enqueue([delivery(1)]);
    const got: ParkedDelivery[] = [];
    await new SqsDeadLetters(client, sqs.queueUrl("dead"), () => T0).drain(async (p) => (got.push(p), true));
    expect(got).toMatchObject([{ reason: "UNHANDLED", delivery: { deliveryId: delivery(1).deliveryId } }]);
  });
});
