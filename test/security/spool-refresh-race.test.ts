import { describe, expect, it, vi } from "vitest";
import type { Delivery } from "../../shared/alerts/delivery.ts";
import { LocalDeliverySpool } from "../../shared/store/local-spool.ts";
import { alertOfAccount, deliveriesOf, tempDir } from "../builders.ts";

// stat is held while asked, so that what runs between refresh's listing and its new index can be chosen.
const gate = vi.hoisted(() => {
  const g = { held: false, release: () => {}, statted: () => {}, opened: Promise.resolve(), reached: Promise.resolve() };
  return g;
});
vi.mock("node:fs/promises", async (original) => {
  const real = await original<typeof import("node:fs/promises")>();
  const stat = (async (...args: Parameters<typeof real.stat>) => {
    if (gate.held) {
      gate.statted();
      await gate.opened;
    }
    return real.stat(...args);
  }) as typeof real.stat;
  return { ...real, default: { ...real, stat }, stat };
});

const delivery = (i: number): Delivery => ({ ...deliveriesOf(alertOfAccount("111111111111"), 1, { from: i })[0]!, deliveryId: `d${i}` });

describe("the spool listed again while alerting enqueues", () => {
  it("hands out a delivery enqueued between refresh's listing and its new index", async () => {
    const spool = new LocalDeliverySpool(await tempDir());
    await spool.enqueue([delivery(1)]);
    expect((await spool.pending(10)).map((d) => d.deliveryId)).toEqual(["d1"]);
    // The loop's poll lists the folder again; alerting (the tick) enqueues meanwhile, as the two run side by side.
    gate.held = true;
    gate.opened = new Promise<void>((resolve) => (gate.release = resolve));
    gate.reached = new Promise<void>((resolve) => (gate.statted = resolve));
    const refreshed = spool.refresh();
    await gate.reached; // the folder is listed (d2 not in it), its files being dated
    gate.held = false;
    await spool.enqueue([delivery(2)]); // on disk, and noted in the index refresh is about to replace
    gate.release();
    await refreshed;
    // d2 is on disk: it must be handed out (before the next refresh, which the loop only makes at a poll no send rang through).
    expect((await spool.pending(10)).map((d) => d.deliveryId).sort()).toEqual(["d1", "d2"]);
    expect(await spool.depth()).toBe(2);
  });
});
