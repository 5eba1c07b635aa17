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
    for (let r = 1; r <= 50; r++) await dead.park({ delivery: delivery(r), reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
    // The first drain takes only its own (a fifth of them); the rest stay, visible for the next one straight away.
    const mine = (p: ParkedDelivery) => Number(p.delivery.deliveryId.split("#").pop()) % 5 === 0;
    expect(await dead.drain(async (p) => mine(p))).toEqual({ retried: 10, remaining: 40 });
    expect(sqs.messages("dead").map((m) => m.visible)).toEqual(Array.from({ length: 40 }, () => true));
    const seen: string[] = [];
    expect(await dead.drain(async (p) => (seen.push(p.delivery.deliveryId), true))).toEqual({ retried: 40, remaining: 0 });
    expect(seen).toHaveLength(40);
    expect(sqs.messages("dead")).toEqual([]);
  });

  it("releases what it holds when a retry throws or the caller's time is up, and says so", async () => {
    const sqs = await startFakeSqs(["dead"]);
    const dead = new SqsDeadLetters(new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials }), sqs.queueUrl("dead"), () => T0);
    for (let r = 1; r <= 25; r++) await dead.park({ delivery: delivery(r), reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
    // A retry throws in the first batch: the batch's others are settled, nothing more is taken, and the rest is visible again.
    await expect(dead.drain(async (p) => (p.delivery.deliveryId.endsWith("#3") ? Promise.reject(new Error("store down")) : true))).rejects.toThrow("store down");
    expect(sqs.messages("dead")).toHaveLength(16);
    expect(sqs.messages("dead").every((m) => m.visible)).toBe(true);
    // Out of time after the first batch: the drain stops there, releasing what it did not send.
    const budget = new AbortController();
    expect(await dead.drain(async () => (budget.abort(), false), budget.signal)).toEqual({ retried: 0, remaining: 10 });
    expect(sqs.messages("dead").every((m) => m.visible)).toBe(true);
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
