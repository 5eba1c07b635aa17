import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../../shared/alerts/delivery.ts";
import { createAlert, createDetector, deliverAll, listDeliveries, OPERATOR, routeEvent } from "../../../shared/app/index.ts";
import { DEFAULT_ALERT_SETTINGS } from "../../../shared/runtime/settings.ts";
import { LocalDeadLetters } from "../../../shared/store/local-dead-letters.ts";
import { anomalyGroupEvent, localAt, tempDir } from "../../builders.ts";
import { inLocalMode } from "../local-mode.ts";

const loadHandler = async (dataDir: string) => (await inLocalMode(() => import("../../../functions/deliveryParked/handler.ts"), dataDir)).parked;

describe("deliveryParked handler (local mode)", () => {
  it("parks the sample delivery the queue gave up on, and fails only the record that is not one", async () => {
    const dir = await tempDir();
    const sample = JSON.parse(await readFile("events/deliveryParked/sqs-batch.json", "utf8"));
    const parked = await loadHandler(dir);
    const bad = { ...sample.Records[0], messageId: "bad-1", body: JSON.stringify({ deliveryId: "x" }) };
    expect(await parked({ Records: [sample.Records[0], bad] })).toEqual({ batchItemFailures: [{ itemIdentifier: "bad-1" }] });
    expect(await new LocalDeadLetters(join(dir, "dead-letters")).list()).toMatchObject([{ reason: "UNHANDLED", attempts: 0, delivery: { deliveryId: JSON.parse(sample.Records[0].body).deliveryId } }]);
  });

  it("parks a dead letter parked with a reason whose detail is longer than a detail is kept (an older deployment's), keeping its first 4,096 characters", async () => {
    const dir = await tempDir();
    const sample = JSON.parse(await readFile("events/deliveryParked/sqs-batch.json", "utf8"));
    const delivery = JSON.parse(sample.Records[0].body);
    const long = { delivery, reason: "AWS", detail: `InternalFailure: ${"x".repeat(6000)}`, attempts: 5, parkedAt: 1_700_000_000_000 };
    const parked = await loadHandler(dir);
    expect(await parked({ Records: [{ ...sample.Records[0], body: JSON.stringify(long) }] })).toEqual({ batchItemFailures: [] });
    const [kept] = await new LocalDeadLetters(join(dir, "dead-letters")).list();
    expect(kept).toMatchObject({ reason: "AWS", attempts: 5, delivery: { deliveryId: delivery.deliveryId } });
    expect(kept!.detail).toBe(long.detail.slice(0, 4096));
  });

  it("tells the delivery as parked where it was pending, and parks none that was sent already", async () => {
    const dir = await tempDir();
    // Routed (pending) while its channel was down and the queue's delivery of it kept failing: what deliver never recorded.
    const rt = localAt(dir, undefined, { settings: { ...DEFAULT_ALERT_SETTINGS, policy: { maxAttempts: 1, baseMs: 1, capMs: 1, maxRetryAfterMs: 1 } } });
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const alert = await createAlert(rt, OPERATOR, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: "http://127.0.0.1:9/hook" } } });
    const delivered: unknown[] = [];
    const routing = { ...rt, deliveryQueue: { enqueue: async (ds: readonly unknown[]) => void delivered.push(...ds) } };
    await routeEvent(routing, anomalyGroupEvent({ revision: 1 }));
    expect(delivered).toHaveLength(1);
    expect(await listDeliveries(rt, OPERATOR, {})).toMatchObject([{ AlertArn: alert.AlertArn, Status: "PENDING" }]);

    const parked = await loadHandler(dir);
    const record = (body: unknown, messageId: string) => ({ messageId, receiptHandle: messageId, body: JSON.stringify(body), attributes: {}, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:q", awsRegion: "us-east-1" });
    expect(await parked({ Records: [record(delivered[0], "m1")] })).toEqual({ batchItemFailures: [] });
    expect(await listDeliveries(rt, OPERATOR, {})).toMatchObject([{ Status: "PARKED", Attempts: 0, LastError: "delivery failed on it until the queue moved it here" }]);

    // Recorded sent (a crash after the send was recorded): taken again, it is not parked.
    const d = delivered[0] as { deliveryId: string };
    await rt.records.put("deliveries", d.deliveryId, { deliveryId: d.deliveryId });
    const dead = new LocalDeadLetters(join(dir, "dead-letters"));
    expect(await dead.drain(async () => true)).toEqual({ retried: 1, remaining: 0 });
    expect(await parked({ Records: [record(delivered[0], "m2")] })).toEqual({ batchItemFailures: [] });
    expect(await dead.list()).toEqual([]);
  });

  it("leaves a delivery deliver parked itself with its own reason when the queue gives it up as well (deliver crashed after parking it)", async () => {
    const dir = await tempDir();
    // On the handler's clock (the real one): what deliver records is not yet expired when the handler reads it.
    const rt = localAt(dir, () => Date.now(), { settings: { ...DEFAULT_ALERT_SETTINGS, policy: { maxAttempts: 1, baseMs: 1, capMs: 1, maxRetryAfterMs: 1 } } });
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createAlert(rt, OPERATOR, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: "http://127.0.0.1:9/hook" } } });
    const delivered: Delivery[] = [];
    await routeEvent({ ...rt, deliveryQueue: { enqueue: async (ds: readonly Delivery[]) => void delivered.push(...ds) } }, anomalyGroupEvent({ revision: 1 }));
    // deliver finds nobody at the port and parks it, with its reason.
    expect(await deliverAll(rt, delivered, new AbortController().signal)).toMatchObject([{ status: "fulfilled", value: { kind: "parked" } }]);
    const dead = new LocalDeadLetters(join(dir, "dead-letters"));
    const before = await dead.list();
    expect(before).toMatchObject([{ reason: "NETWORK" }]);
    const told = await listDeliveries(rt, OPERATOR, {});
    // The queue hands the same delivery to the dead-letter queue: nothing changes.
    const parked = await loadHandler(dir);
    const sample = JSON.parse(await readFile("events/deliveryParked/sqs-batch.json", "utf8"));
    expect(await parked({ Records: [{ ...sample.Records[0], body: JSON.stringify(delivered[0]) }] })).toEqual({ batchItemFailures: [] });
    expect(await dead.list()).toEqual(before);
    expect(await listDeliveries(rt, OPERATOR, {})).toEqual(told);
  });
});
