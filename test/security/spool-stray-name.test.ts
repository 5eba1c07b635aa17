import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../shared/alerts/delivery.ts";
import { ServiceLoop } from "../../shared/runtime/service/loop.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { LocalDeliverySpool } from "../../shared/store/local-spool.ts";
import { alertOfAccount, deliveriesOf, T0, tempDir } from "../builders.ts";
import { ManualClock, quietObserver } from "../clock.ts";

/**
 * A delivery in the spool under a name that is not its own (restored from a copy, "x (1).json"):
 * pending hands it out, and once it is done with (here parked: its alert is gone) remove takes
 * away the names it computes, not the file. The file must not be handed out over and over.
 */
const settle = () => new Promise((r) => setImmediate(r));
const alert = alertOfAccount("111111111111", "gone");

describe("vigil serve's delivery loop, a spool file under a name not its delivery's", () => {
  it("is done with once, not handed out (and parked) again at every turn", async () => {
    const dir = await tempDir();
    const queue = join(dir, "queue");
    const spool = new LocalDeliverySpool(queue);
    const [delivery] = deliveriesOf(alert, 1, { from: 1 }) as [Delivery];
    await spool.enqueue([]);
    await writeFile(join(queue, "111111111111.restored.json"), JSON.stringify(delivery));
    const base = localServices(join(dir, "data"), { clock: () => T0, observer: quietObserver(), deliveryQueue: spool });
    let parked = 0;
    const services = { ...base, deadLetters: { ...base.deadLetters, drain: base.deadLetters.drain.bind(base.deadLetters), park: (p: Parameters<typeof base.deadLetters.park>[0]) => (parked++, base.deadLetters.park(p)) } };
    const loop = new ServiceLoop({ services, clock: new ManualClock(T0), spool, deliveryConcurrency: 4 });
    let handedOut = 0;
    const pending = spool.pending.bind(spool);
    spool.pending = async (...args) => {
      const out = await pending(...args);
      handedOut += out.filter((d) => d.deliveryId === delivery.deliveryId).length;
      return out;
    };
    await loop.start();
    try {
      // Until it is parked (file work, however slow the machine), then as many turns again: it must not come round.
      for (let i = 0; i < 200_000 && parked === 0; i++) await settle();
      for (let i = 0; i < 2_000; i++) await settle();
      // Once at start (releasing stale leases), once to send: not once a turn.
      expect(parked).toBe(1);
      expect(handedOut).toBeLessThanOrEqual(3);
    } finally {
      await loop.stop(5_000);
    }
  }, 60_000);
});
