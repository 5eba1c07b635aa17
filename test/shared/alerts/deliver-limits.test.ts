import { describe, expect, it } from "vitest";
import { deliver } from "../../../shared/alerts/deliver.ts";
import { DeliveryGate } from "../../../shared/alerts/gate.ts";
import { deliverDepsOf } from "../../../shared/app/alerting.ts";
import { createAlert, createDetector, deliverAll, OPERATOR } from "../../../shared/app/index.ts";
import type { Alert } from "../../../shared/model/alert.ts";
import { CHANNEL_LIMITS } from "../../../shared/runtime/senders.ts";
import { deliveriesOf, localAt, tempDir } from "../../builders.ts";
import { CountingReceiver } from "../../receivers/counting-receiver.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";

const signal = new AbortController().signal;

async function withAlert(action: Record<string, unknown>) {
  const services = localAt(await tempDir());
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const alert = await createAlert(services, OPERATOR, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: action });
  return { services, alert };
}

describe("deliveries at once, within their channel's limits", () => {
  it("keeps a webhook's sends in flight to the limit, and sends each delivery once", async () => {
    const limit = CHANNEL_LIMITS.webhook.concurrency;
    const n = 3 * limit + 5;
    const receiver = await CountingReceiver.start(limit, n);
    try {
      const { services, alert } = await withAlert({ WebhookConfiguration: { Url: `${receiver.url}/hook`, Secret: "k" } });
      const deliveries = deliveriesOf(alert, n);
      const outcomes = await deliverAll(services, deliveries, signal);
      expect(outcomes.map((o) => o.status === "fulfilled" && o.value.kind)).toEqual(Array(n).fill("sent"));
      expect(receiver.most).toBe(limit);
      expect(receiver.received.sort()).toEqual(deliveries.map((d) => d.deliveryId).sort());
      // The same batch again: every delivery was recorded, none is sent twice.
      expect((await deliverAll(services, deliveries, signal)).map((o) => o.status === "fulfilled" && o.value.kind)).toEqual(Array(n).fill("duplicate"));
      expect(receiver.received).toHaveLength(n);
    } finally {
      await receiver.stop();
    }
  });

  it("sends to a Slack webhook one message at a time, and holds the others while a 429's Retry-After lasts", async () => {
    const receiver = await HttpReceiver.start();
    try {
      const { services, alert } = await withAlert({ SlackConfiguration: { WebhookUrl: `${receiver.url}/services/T/B/x` } });
      receiver.answer({ status: 429, headers: { "retry-after": "1" } });
      const deliveries = deliveriesOf(alert, 2);
      const outcomes = await deliverAll(services, deliveries, signal);
      expect(outcomes.map((o) => o.status === "fulfilled" && o.value)).toEqual([
        { kind: "sent", attempts: 2 },
        { kind: "sent", attempts: 1 },
      ]);
      // The second was not sent while the first waited out its Retry-After: the webhook heard the first twice, then the second.
      const order = receiver.requests.map((r) => r.body);
      expect(order).toHaveLength(3);
      expect(order[0]).toBe(order[1]);
      expect(order[2]).not.toBe(order[0]);
    } finally {
      await receiver.stop();
    }
  });

  it("holds a Slack webhook no longer than the policy waits when its Retry-After asks for more, so its next delivery keeps no slot of every tenant's for a day", async () => {
    for (const retryAfter of ["86400", "9".repeat(400)]) {
      const receiver = await HttpReceiver.start();
      try {
        const { services, alert } = await withAlert({ SlackConfiguration: { WebhookUrl: `${receiver.url}/services/T/B/x` } });
        // The gate on a clock that records each wait for a turn (and jumps past it); a wait past an hour is a slot held that long.
        let now = 0;
        const held: number[] = [];
        const gate = new DeliveryGate(CHANNEL_LIMITS, {
          now: () => now,
          sleep: async (ms) => {
            held.push(ms);
            if (!(ms <= 3_600_000)) throw new Error(`a turn held for ${ms} ms`);
            now += ms;
          },
        });
        const deps = { ...deliverDepsOf(services), gate };
        const [first, second] = deliveriesOf(alert, 2);
        receiver.answer({ status: 429, headers: { "retry-after": retryAfter } });
        expect(await deliver(deps, first!, signal)).toMatchObject({ kind: "parked", attempts: 1, detail: "HTTP 429" });
        expect(await deliver(deps, second!, signal)).toEqual({ kind: "sent", attempts: 1 });
        expect(Math.max(0, ...held)).toBeLessThanOrEqual(deps.policy.maxRetryAfterMs);
      } finally {
        await receiver.stop();
      }
    }
  });
});
