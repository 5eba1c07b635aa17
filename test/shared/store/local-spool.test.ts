import { createHash } from "node:crypto";
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../../shared/alerts/delivery.ts";
import { LocalDeliverySpool } from "../../../shared/store/local-spool.ts";
import { alertOfAccount, deliveriesOf, tempDir } from "../../builders.ts";

/** `n` deliveries of `account`'s alert, named `<tag><i>`. */
const deliveries = (account: string, tag: string, n: number): Delivery[] => deliveriesOf(alertOfAccount(account), n, { tag: `${tag}aaa` }).map((d, i) => ({ ...d, deliveryId: `${tag}${i}` }));

/** A spool holding the deliveries, enqueued one second apart in the given order. */
async function spoolOf(...queued: Delivery[]) {
  const dir = await tempDir();
  const spool = new LocalDeliverySpool(dir);
  for (const [i, d] of queued.entries()) {
    const before = new Set(await readdir(dir).catch(() => []));
    await spool.enqueue([d]);
    const added = (await readdir(dir)).find((n) => !before.has(n))!;
    const at = new Date(Date.UTC(2026, 0, 1) + i * 1000);
    await utimes(join(dir, added), at, at);
  }
  return { dir, spool };
}

const ids = (ds: readonly Delivery[]) => ds.map((d) => d.deliveryId);

describe("the local delivery spool", () => {
  it("lets tenants take turns, each tenant's oldest first, though one queued far more first", async () => {
    const { spool } = await spoolOf(...deliveries("111111111111", "a", 6), ...deliveries("222222222222", "b", 2));
    expect(ids(await spool.pending(5))).toEqual(["a0", "b0", "a1", "b1", "a2"]);
    expect(await spool.depth()).toBe(8);
  });

  it("serves first the tenant with fewer sending already, and leaves out those being sent", async () => {
    const a = deliveries("111111111111", "a", 4);
    const { spool } = await spoolOf(...a, ...deliveries("222222222222", "b", 2));
    const held = (account: string) => (account === "111111111111" ? 2 : 0);
    expect(ids(await spool.pending(3, { held, except: a.slice(0, 2) }))).toEqual(["b0", "b1", "a2"]);
  });

  it("removes a sent delivery, and one queued under the name used before accounts were part of it", async () => {
    const [d] = deliveries("111111111111", "a", 1);
    const { dir, spool } = await spoolOf(d!);
    await spool.remove(d!);
    expect(await spool.depth()).toBe(0);
    const older = `${createHash("sha256").update(d!.deliveryId).digest("hex").slice(0, 40)}.json`;
    await writeFile(join(dir, older), JSON.stringify(d));
    // Written behind the spool's back: found once it lists the folder again.
    expect(ids(await spool.pending(10))).toEqual([]);
    await spool.refresh();
    expect(ids(await spool.pending(10))).toEqual(["a0"]);
    await spool.remove(d!);
    expect(await readdir(dir)).toEqual([]);
  });
  it("after a tenant's oldest is sent, serves first the tenant whose oldest now waits longest (as pending says), not the one first queued", async () => {
    const [a0, a1] = deliveries("111111111111", "a", 2);
    const [b0] = deliveries("222222222222", "b", 1);
    // Queued a0, then b0, then a1, in that order, in one run (kept in memory, not listed again).
    const spool = new LocalDeliverySpool(await tempDir());
    await spool.pending(1);
    for (const d of [a0!, b0!, a1!]) await spool.enqueue([d]);
    await spool.remove(a0!);
    // b0 has waited longer than a1: its tenant goes first.
    expect(ids(await spool.pending(1))).toEqual(["b0"]);
    // Listed again, the spool says the same.
    await spool.refresh();
    expect(ids(await spool.pending(1))).toEqual(["b0"]);
  });

  it("counts one delivery queued under both names as one waiting", async () => {
    const [d] = deliveries("111111111111", "a", 1);
    const { dir, spool } = await spoolOf(d!);
    await writeFile(join(dir, `${createHash("sha256").update(d!.deliveryId).digest("hex").slice(0, 40)}.json`), JSON.stringify(d));
    await spool.refresh();
    expect(ids(await spool.pending(10))).toEqual(["a0"]);
    expect(await spool.depth()).toBe(1);
  });
  it("leaves out what is being sent when `except` is the loop's one-pass iterator (sending.keys()), by id as well as by name", async () => {
    const [d] = deliveries("111111111111", "a", 1);
    const { dir, spool } = await spoolOf(d!);
    // The same delivery under a name neither of nameOf's (a file renamed by hand, or named otherwise by another version).
    await writeFile(join(dir, `111111111111.copy.json`), JSON.stringify(d));
    await spool.refresh();
    const sending = new Map([[d!, Promise.resolve()]]);
    // With an array, the id is known: nothing is handed out.
    expect(ids(await spool.pending(10, { except: [...sending.keys()] }))).toEqual([]);
    // The loop passes the Map's iterator, which pending reads twice: the second read (the ids) finds it spent.
    expect(ids(await spool.pending(10, { except: sending.keys() }))).toEqual([]);
  });

  it("passes over an entry it cannot read (a folder under a delivery's name), handing out the others", async () => {
    const { dir, spool } = await spoolOf(...deliveries("111111111111", "a", 2));
    await mkdir(join(dir, "111111111111.0000000000000000000000000000000000000000.json"));
    await spool.refresh();
    expect(ids(await spool.pending(10))).toEqual(["a0", "a1"]);
  });

  it("hands out each of 50 deliveries enqueued at once by as many writers, while it lists the folder again, once", async () => {
    const dir = await tempDir();
    const spool = new LocalDeliverySpool(dir);
    const queued = Array.from({ length: 50 }, (_, i) => deliveries(i % 2 ? "111111111111" : "222222222222", `w${i}-`, 1)[0]!);
    await Promise.all([...queued.map((d) => spool.enqueue([d])), spool.refresh(), spool.refresh()]);
    const first = await spool.pending(30);
    const rest = await spool.pending(100, { except: first });
    expect(ids([...first, ...rest]).sort()).toEqual(ids(queued).sort());
    expect(await spool.depth()).toBe(50);
    expect(await readdir(dir)).toHaveLength(50);
  });
});
