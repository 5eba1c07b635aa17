import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliver, DeliveryInterrupted, replayParked, type DeliverDeps } from "../../../shared/alerts/deliver.ts";
import type { Delivery } from "../../../shared/alerts/delivery.ts";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { deliverDepsOf } from "../../../shared/app/alerting.ts";
import { createAlert, createDetector, deleteAlert, OPERATOR } from "../../../shared/app/index.ts";
import type { Alert } from "../../../shared/model/alert.ts";
import { DEFAULT_ALERT_SETTINGS } from "../../../shared/runtime/settings.ts";
import { LocalDeadLetters } from "../../../shared/store/local-dead-letters.ts";
import { anomalyGroupEvent, localAt, tempDir } from "../../builders.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";

const signal = new AbortController().signal;

/** A store, a catalog with one webhook alert, and the delivery step with a clock that records the waits it is asked for. */
async function setup(url: string, maxAttempts = 4) {
  const dir = await tempDir();
  const settings = { ...DEFAULT_ALERT_SETTINGS, timeoutsMs: { ...DEFAULT_ALERT_SETTINGS.timeoutsMs, webhook: 300 }, policy: { maxAttempts, baseMs: 100, capMs: 1000, maxRetryAfterMs: 5000 } };
  const services = localAt(dir, undefined, { settings });
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const alert = await createAlert(services, OPERATOR, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: url, Secret: "k" } } });
  const deadLetters = services.deadLetters as LocalDeadLetters;
  const waits: number[] = [];
  const deps: DeliverDeps = { ...deliverDepsOf(services), timer: { sleep: async (ms) => void waits.push(ms), random: () => 0.5 } };
  return { deps, deadLetters, waits, alert, records: services.records, services };
}

const deliveryFor = (alert: Alert, revision = 1): Delivery => {
  const message = alertMessage(alert, anomalyGroupEvent({ revision }), "first", "http://localhost:8087");
  return { deliveryId: message.deliveryId, alertArn: alert.AlertArn, message };
};

describe("deliver", () => {
  let receiver: HttpReceiver;
  beforeAll(async () => void (receiver = await HttpReceiver.start()));
  afterAll(() => receiver.stop());

  it("retries 5xx with growing jittered waits and sends once; a re-run sends nothing", async () => {
    const { deps, waits, alert } = await setup(receiver.url);
    const d = deliveryFor(alert);
    const before = receiver.requests.length;
    receiver.answer({ status: 503 }, { status: 502 }, { status: 500 });
    expect(await deliver(deps, d, signal)).toEqual({ kind: "sent", attempts: 4 });
    expect(waits).toEqual([50, 100, 200]); // half of base·2ⁿ, with random() = 0.5
    expect(await deliver(deps, d, signal)).toEqual({ kind: "duplicate" });
    expect(await deliver(deps, { ...d }, signal)).toEqual({ kind: "duplicate" });
    expect(receiver.requests.length - before).toBe(4);
    expect(receiver.requests.slice(before).map((r) => r.headers["vigil-delivery-id"])).toEqual(Array(4).fill(d.deliveryId));
  });

  it("waits as long as a 429's Retry-After asks", async () => {
    const { deps, waits, alert } = await setup(receiver.url);
    receiver.answer({ status: 429, headers: { "retry-after": "3" } });
    expect(await deliver(deps, deliveryFor(alert), signal)).toEqual({ kind: "sent", attempts: 2 });
    expect(waits).toEqual([3000]);
  });

  it("parks a delivery whose Retry-After is longer than it may wait", async () => {
    const { deps, deadLetters, alert } = await setup(receiver.url);
    receiver.answer({ status: 429, headers: { "retry-after": "3600" } });
    expect(await deliver(deps, deliveryFor(alert), signal)).toMatchObject({ kind: "parked", attempts: 1 });
    expect(await deadLetters.list()).toHaveLength(1);
  });

  it("parks after the last retry of a hanging receiver, then replay sends it exactly once", async () => {
    const { deps, deadLetters, alert } = await setup(receiver.url, 3);
    const d = deliveryFor(alert);
    const before = receiver.requests.length;
    receiver.answer("hang", "hang", "hang");
    expect(await deliver(deps, d, signal)).toEqual({ kind: "parked", attempts: 3, detail: "no answer within 300 ms" });
    expect(await deadLetters.list()).toMatchObject([{ delivery: { deliveryId: d.deliveryId }, reason: "TIMEOUT", attempts: 3 }]);
    receiver.answer({ status: 500 }, { status: 500 }, { status: 500 });
    expect(await replayParked(deps, signal)).toEqual({ retried: 0, remaining: 1 }); // still failing: it stays parked, once
    expect(await deadLetters.list()).toHaveLength(1);
    expect(await replayParked(deps, signal)).toEqual({ retried: 1, remaining: 0 });
    expect(await replayParked(deps, signal)).toEqual({ retried: 0, remaining: 0 });
    const sent = receiver.requests.slice(before).filter((r) => r.headers["vigil-delivery-id"] === d.deliveryId);
    expect(sent).toHaveLength(3 + 3 + 1);
    expect(await deliver(deps, d, signal)).toEqual({ kind: "duplicate" });
  });

  it("sends a parked delivery the queue hands over again once, and the replay then finds it sent", async () => {
    const { deps, deadLetters, alert } = await setup(receiver.url, 1);
    const d = deliveryFor(alert);
    const before = receiver.requests.length;
    receiver.answer({ status: 500 });
    expect(await deliver(deps, d, signal)).toMatchObject({ kind: "parked" });
    expect(await deliver(deps, d, signal)).toEqual({ kind: "sent", attempts: 1 });
    expect(await replayParked(deps, signal)).toEqual({ retried: 1, remaining: 0 });
    expect(await deadLetters.list()).toEqual([]);
    expect(receiver.requests.slice(before).filter((r) => r.headers["vigil-delivery-id"] === d.deliveryId)).toHaveLength(2);
  });

  it("leaves to a replay a delivery another run holds, and takes no lease it does not hold", async () => {
    const { deps, deadLetters, alert, records } = await setup(receiver.url, 1);
    const d = deliveryFor(alert);
    receiver.answer({ status: 500 });
    expect(await deliver(deps, d, signal)).toMatchObject({ kind: "parked" });
    // Another run (a replay elsewhere) holds it now.
    expect(await records.claim(`delivery/${d.deliveryId}`, deps.now() + 600_000, deps.now())).toBe(true);
    const before = receiver.requests.length;
    expect(await replayParked(deps, signal)).toEqual({ retried: 0, remaining: 1 });
    expect(await records.get("leases", `delivery/${d.deliveryId}`)).toEqual({ until: deps.now() + 600_000 });
    expect(receiver.requests.length).toBe(before);
    expect(await deadLetters.list()).toHaveLength(1);
  });

  it("parks without trying a 4xx more than once, and a delivery whose alert was deleted", async () => {
    const { deps, deadLetters, alert, services } = await setup(receiver.url);
    receiver.answer({ status: 404 });
    expect(await deliver(deps, deliveryFor(alert, 1), signal)).toMatchObject({ kind: "parked", attempts: 1, detail: "HTTP 404" });
    await deleteAlert(services, OPERATOR, alert.AlertArn);
    // A batch reads the alerts it names once: the next batch finds this one gone.
    const nextBatch = { ...deliverDepsOf(services), timer: deps.timer };
    expect(await deliver(nextBatch, deliveryFor(alert, 2), signal)).toMatchObject({ kind: "parked", attempts: 0 });
    expect((await deadLetters.list()).map((p) => p.reason)).toEqual(["HTTP_STATUS", "ALERT_GONE"]);
  });

  it("gives its lease back when something throws before the message is sent, so the queue's next hand-over sends it once", async () => {
    const { deps, alert } = await setup(receiver.url);
    let reads = 0;
    // The store's second look at "sent already?" (after the lease is taken) is throttled once.
    const records = new Proxy(deps.records, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        if (key !== "get") return value.bind(target);
        return (table: string, id: string) => (table === "deliveries" && ++reads === 2 ? Promise.reject(new Error("throttled")) : value.call(target, table, id));
      },
    });
    receiver.answer({ status: 200 });
    const before = receiver.requests.length;
    const d = deliveryFor(alert, 7);
    await expect(deliver({ ...deps, records }, d, signal)).rejects.toThrow("throttled");
    expect(receiver.requests.length).toBe(before);
    expect(await deliver({ ...deps, records }, d, signal)).toMatchObject({ kind: "sent", attempts: 1 });
    expect(receiver.requests.length).toBe(before + 1);
  });

  it("gives its lease back when the delivery cannot be parked, so the queue's next hand-over parks it", async () => {
    const { deps, deadLetters, alert } = await setup(receiver.url);
    let refuse = true;
    const failing: DeliverDeps = { ...deps, deadLetters: { park: (p) => (refuse ? Promise.reject(new Error("table throttled")) : deadLetters.park(p)), holds: (d) => deadLetters.holds(d), drain: (r, o) => deadLetters.drain(r, o) } };
    receiver.answer({ status: 404 }, { status: 404 });
    const d = deliveryFor(alert);
    // The record table refuses the park: the delivery fails (the queue gives it back), it is not dropped.
    await expect(deliver(failing, d, signal)).rejects.toThrow("table throttled");
    refuse = false;
    expect(await deliver(failing, d, signal)).toMatchObject({ kind: "parked", attempts: 1, detail: "HTTP 404" });
    expect(await deadLetters.list()).toMatchObject([{ delivery: { deliveryId: d.deliveryId }, reason: "HTTP_STATUS" }]);
  });
});

describe("deliver at the end of an invocation", () => {
  it("leaves a delivery cut short by the invocation's deadline to the queue, neither parked nor recorded", async () => {
    const receiver = await HttpReceiver.start();
    try {
      const { deps, deadLetters, alert } = await setup(receiver.url);
      const d = deliveryFor(alert);
      const deadline = new AbortController();
      receiver.answer("hang");
      const cut = expect(deliver(deps, d, deadline.signal)).rejects.toThrow(DeliveryInterrupted);
      // The deadline falls while the receiver holds the request, whatever the machine's pace.
      while (receiver.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      deadline.abort();
      await cut;
      expect(await deadLetters.list()).toEqual([]);
      expect(await deliver(deps, d, signal)).toEqual({ kind: "sent", attempts: 1 });
    } finally {
      await receiver.stop();
    }
  });
});
