import { createServer } from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../shared/alerts/delivery.ts";
import { alertMessage } from "../../shared/alerts/message.ts";
import { createAlert, createDetector, type Scope } from "../../shared/app/index.ts";
import type { Alert } from "../../shared/model/alert.ts";
import { ServiceLoop } from "../../shared/runtime/service/loop.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { LocalDeliverySpool } from "../../shared/store/local-spool.ts";
import { anomalyGroupEvent, T0, tempDir } from "../builders.ts";
import { ManualClock, quietObserver } from "../clock.ts";

/**
 * vigil serve's delivery loop, every place taken by one tenant's sends to a receiver that
 * hangs (it was alone when they were queued): another tenant's deliveries queued then must
 * each go out as a place frees, not one, then none until a quarter of the places are free
 * or something else is queued.
 */
const TEAM_A: Scope = { tenant: "team-a", accountId: "111111111111" };
const TEAM_B: Scope = { tenant: "team-b", accountId: "222222222222" };
const settle = () => new Promise((r) => setImmediate(r));

const deliveriesFor = (alert: Alert, n: number, tag: string): Delivery[] =>
  Array.from({ length: n }, (_, i) => {
    const message = alertMessage(alert, anomalyGroupEvent({ groupId: `4f1c2d3e-${tag}-4bbb-8ccc-${String(i).padStart(12, "0")}` }), "first", "http://localhost:8087");
    return { deliveryId: message.deliveryId, alertArn: alert.AlertArn, message };
  });

describe("vigil serve's delivery loop, its places all held by a tenant whose receiver hangs", () => {
  it("sends each of another tenant's queued deliveries as a place frees", async () => {
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
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = await tempDir();
    const spool = new LocalDeliverySpool(join(dir, "queue"));
    let loop: ServiceLoop | undefined;
    try {
      const services = localServices(join(dir, "data"), { clock: () => T0, observer: quietObserver(), deliveryQueue: spool, privateTargets: () => true, wake: () => loop?.wake() });
      const alertOf = async (scope: Scope, path: string) => {
        const detector = await createDetector(services, scope, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
        return createAlert(services, scope, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: `${url}${path}` } } });
      };
      const [a, b] = [await alertOf(TEAM_A, "/a"), await alertOf(TEAM_B, "/b")];
      const places = 16;
      // Tenant a alone: its sends take every place, and hang.
      await spool.enqueue(deliveriesFor(a as Alert, places, "aaaa"));
      loop = new ServiceLoop({ services, clock: new ManualClock(T0), spool, deliveryConcurrency: places });
      await loop.start();
      while (held.length < places) await settle();
      // Tenant b queues three alerts (one wake for them all).
      await spool.enqueue(deliveriesFor(b as Alert, 3, "bbbb"));
      loop.wake();
      const sentToB = () => arrivals.filter((p) => p === "/b").length;
      // One of a's sends ends: b's first goes out in its place (and is answered at once).
      held.shift()!();
      while (sentToB() < 1) await settle();
      for (let i = 0; i < 50; i++) await settle();
      // Another of a's ends: a place is free, b's second waits for it.
      held.shift()!();
      for (let i = 0; i < 300 && sentToB() < 2; i++) await settle();
      expect(sentToB()).toBe(2);
    } finally {
      held.splice(0).forEach((h) => h());
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await loop?.stop(5_000);
    }
  }, 60_000);
});
