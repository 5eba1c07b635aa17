import { createServer } from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createAlert, createDetector, deliverAll, type Scope, type Services } from "../../shared/app/index.ts";
import { CHANNEL_LIMITS } from "../../shared/runtime/senders.ts";
import { ServiceLoop } from "../../shared/runtime/service/loop.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { LocalDeliverySpool } from "../../shared/store/local-spool.ts";
import { deliveriesOf, localAt, T0, tempDir } from "../builders.ts";
import { ManualClock, quietObserver } from "../clock.ts";

/**
 * One tenant's webhook hangs with a backlog far past the process's webhook sends in flight;
 * another tenant's alert must not wait behind that backlog: it goes out as soon as one of
 * the first tenant's sends ends, where first come, first served sent it after them all.
 */
const TEAM_A: Scope = { tenant: "team-a", accountId: "111111111111" };
const TEAM_B: Scope = { tenant: "team-b", accountId: "222222222222" };
const signal = new AbortController().signal;
const settle = () => new Promise((r) => setImmediate(r));


/** A receiver that answers /b at once and holds each /a request until `releaseOne`; `arrivals` says in which order paths came. */
async function holdingReceiver() {
  const arrivals: string[] = [];
  const held: (() => void)[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      arrivals.push(req.url ?? "");
      if (req.url === "/a") held.push(() => res.end("ok"));
      else res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    held,
    releaseOne: () => held.shift()?.(),
    stop: async () => {
      held.splice(0).forEach((h) => h());
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Tenants a and b, each a detector with a webhook alert to `url` (/a, /b). */
async function tenantAlerts(services: Services, url: string) {
  const alertOf = async (scope: Scope, path: string) => {
    const detector = await createDetector(services, scope, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    return createAlert(services, scope, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: `${url}${path}` } } });
  };
  return [await alertOf(TEAM_A, "/a"), await alertOf(TEAM_B, "/b")] as const;
}

/** vigil serve's delivery loop (started by `start`) over a spool, tenants a and b each with a webhook alert to `url` (/a, /b). */
async function servedTenants(url: string) {
  const dir = await tempDir();
  const spool = new LocalDeliverySpool(join(dir, "queue"));
  let loop: ServiceLoop | undefined;
  const services = localServices(join(dir, "data"), { clock: () => T0, observer: quietObserver(), deliveryQueue: spool, privateTargets: () => true, wake: () => loop?.wake() });
  const [a, b] = await tenantAlerts(services, url);
  const start = async (places: number) => {
    loop = new ServiceLoop({ services, clock: new ManualClock(T0), spool, deliveryConcurrency: places });
    await loop.start();
    return loop;
  };
  return { spool, a, b, start, stop: async () => void (await loop?.stop(5_000)) };
}

describe("webhook sends shared between tenants", () => {
  it("sends another tenant's alert once one of a hanging tenant's sends ends, not behind its backlog", async () => {
    const receiver = await holdingReceiver();
    try {
      const services = localAt(await tempDir(), undefined, { privateTargets: () => true });
      const [a, b] = await tenantAlerts(services, receiver.url);
      const limit = CHANNEL_LIMITS.webhook.concurrency;
      const backlog = 4 * limit;
      const sendingA = deliverAll(services, deliveriesOf(a, limit + backlog, { tag: "aaaa" }), signal);
      while (receiver.held.length < limit) await settle();
      const sendingB = deliverAll(services, deliveriesOf(b, 1, { tag: "bbbb" }), signal);
      // Tenant a's sends end one at a time; b's goes out within the first few of them.
      for (let ended = 0; !receiver.arrivals.includes("/b") && ended < backlog; ended++) {
        receiver.releaseOne();
        for (let i = 0; i < 50 && receiver.held.length < limit && !receiver.arrivals.includes("/b"); i++) await settle();
      }
      const aBeforeB = receiver.arrivals.indexOf("/b") - limit;
      expect(aBeforeB).toBeGreaterThanOrEqual(0);
      expect(aBeforeB).toBeLessThan(limit);
      expect((await sendingB).map((o) => o.status === "fulfilled" && o.value.kind)).toEqual(["sent"]);
      while (receiver.held.length || receiver.arrivals.length < limit + backlog + 1) {
        receiver.releaseOne();
        await settle();
      }
      expect((await sendingA).every((o) => o.status === "fulfilled" && o.value.kind === "sent")).toBe(true);
    } finally {
      await receiver.stop();
    }
  }, 60_000);

  it("vigil serve's loop sends another tenant's queued alert as soon as a place frees, not behind a hanging tenant's backlog", async () => {
    const receiver = await holdingReceiver();
    const { spool, a, b, start, stop } = await servedTenants(receiver.url);
    try {
      const places = 4;
      // Tenant a's backlog was queued first, b's one alert after it: b's is among the first sent.
      await spool.enqueue(deliveriesOf(a, 5 * places, { tag: "aaaa" }));
      await spool.enqueue(deliveriesOf(b, 1, { tag: "bbbb" }));
      const loop = await start(places);
      while (receiver.held.length < places) await settle();
      expect(receiver.arrivals.slice(0, places).filter((p) => p === "/b")).toHaveLength(1);
      // Every place holds a hanging send of a's when b queues another: it goes out as soon as one of them ends.
      await spool.enqueue(deliveriesOf(b, 1, { tag: "cccc" }));
      loop.wake();
      const before = receiver.arrivals.length;
      for (let i = 0; i < 20; i++) await settle();
      expect(receiver.arrivals).toHaveLength(before);
      receiver.releaseOne();
      while (receiver.arrivals.length === before) await settle();
      expect(receiver.arrivals[before]).toBe("/b");
    } finally {
      await receiver.stop();
      await stop();
    }
  }, 60_000);

  it("vigil serve's loop, every place held by a tenant whose receiver hangs, sends each of another tenant's queued alerts as a place frees", async () => {
    const receiver = await holdingReceiver();
    const { spool, a, b, start, stop } = await servedTenants(receiver.url);
    try {
      const places = 16;
      // Tenant a alone: its sends take every place, and hang. Then b queues three alerts (one wake for them all).
      await spool.enqueue(deliveriesOf(a, places, { tag: "aaaa" }));
      const loop = await start(places);
      while (receiver.held.length < places) await settle();
      await spool.enqueue(deliveriesOf(b, 3, { tag: "bbbb" }));
      loop.wake();
      const sentToB = () => receiver.arrivals.filter((p) => p === "/b").length;
      for (let i = 0; i < 50; i++) await settle();
      expect(sentToB()).toBe(0);
      // One of a's sends ends: b's first goes out in its place, and each of b's, answered at once, frees the place for the next.
      receiver.releaseOne();
      while (sentToB() < 3) await settle();
      expect(receiver.held).toHaveLength(places - 1);
    } finally {
      await receiver.stop();
      await stop();
    }
  }, 60_000);
});
