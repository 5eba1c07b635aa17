import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../shared/alerts/delivery.ts";
import type { Services } from "../../shared/app/index.ts";
import { ServiceLoop } from "../../shared/runtime/service/loop.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { LocalDeliverySpool } from "../../shared/store/local-spool.ts";
import { alertOfAccount, deliveriesOf, T0, tempDir } from "../builders.ts";
import { ManualClock, quietObserver } from "../clock.ts";

/**
 * vigil serve's delivery loop when the store fails (a full disk): a delivery that fails
 * unexpectedly is retried with a growing wait, and parked at the fifth failure. When parking
 * fails too, the send's end rings the loop, which hands the same delivery out again at once:
 * it must still wait before trying it again, not spin.
 */
const settle = () => new Promise((r) => setImmediate(r));
const alert = alertOfAccount("111111111111");

describe("vigil serve's delivery loop, the store and the dead letters failing", () => {
  it("does not hand a delivery whose parking failed out again at once, over and over", async () => {
    const dir = await tempDir();
    const spool = new LocalDeliverySpool(join(dir, "queue"));
    const [delivery] = deliveriesOf(alert, 1, { from: 1 }) as [Delivery];
    const base = localServices(join(dir, "data"), { clock: () => T0, observer: quietObserver(), deliveryQueue: spool });
    let broken = false;
    const records = new Proxy(base.records, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (broken) {
            return Promise.reject(new Error("ENOSPC: no space left on device"));
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const services: Services = { ...base, records, deadLetters: { ...base.deadLetters, park: () => Promise.reject(new Error("ENOSPC: no space left on device")) } } as Services;
    await spool.enqueue([delivery]);
    const loop = new ServiceLoop({ services, clock: new ManualClock(T0), spool, deliveryConcurrency: 4 });
    // Four unexpected failures already (each waited 2, 4, 8, 16 s): the next is the fifth, which parks.
    (loop as unknown as { unhandled: Map<string, number> }).unhandled.set(delivery.deliveryId, 4);
    await loop.start();
    broken = true;
    try {
      for (let i = 0; i < 2_000; i++) await settle();
      // The fifth failure's parking fails: one more try may follow at once, not one per turn of the event loop.
      const failures = (loop as unknown as { unhandled: Map<string, number> }).unhandled.get(delivery.deliveryId) ?? 0;
      expect(failures).toBeLessThanOrEqual(6);
    } finally {
      broken = false;
      await loop.stop(5_000);
    }
  }, 60_000);
});
