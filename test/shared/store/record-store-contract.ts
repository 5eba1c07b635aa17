import { describe, expect, it } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { RecordExists, type DamagedRecord, type RecordStore, type RecordStoreOptions, type Table } from "../../../shared/store/records.ts";
import { anomalyGroupRecord, HOUR, T0 } from "../../builders.ts";

/** A store under test, and a way to damage one of its records, or a record's index entry, as a hand edit would. */
export interface ContractSubject {
  readonly store: RecordStore;
  damage(table: Table, id: string, part?: "record" | "index entry"): Promise<void>;
}

/** What every RecordStore adapter must do, run against each of them. Each case gets an empty store. */
export function recordStoreContract(name: string, makeSubject: (options: Required<RecordStoreOptions>) => Promise<ContractSubject>): void {
  let clock = T0;
  let damaged: DamagedRecord[] = [];
  const make = async () => {
    clock = T0;
    damaged = [];
    return makeSubject({ now: () => clock, onDamaged: (d) => damaged.push(d) });
  };
  const makeStore = async () => (await make()).store;

  describe(`${name} (record store contract)`, () => {
    it("creates once: of racing creators exactly one wins", async () => {
      const store = await makeStore();
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.create("detectors", "shop", { writer: i })));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(results.filter((r) => r.status === "rejected" && r.reason instanceof RecordExists)).toHaveLength(7);
      const winner = results.findIndex((r) => r.status === "fulfilled");
      expect(await store.get("detectors", "shop")).toEqual({ writer: winner });
    });

    it("updates atomically: of racing updates none is lost; a missing record is not made, and a throwing change writes nothing", async () => {
      const store = await makeStore();
      await store.put("detectors", "shop", { Tags: {} as Record<string, string>, kept: "yes" });
      const tagged = await Promise.all(Array.from({ length: 12 }, (_, i) => store.update<{ Tags: Record<string, string> }>("detectors", "shop", (d) => ({ ...d, Tags: { ...d.Tags, [`t${i}`]: String(i) } }))));
      expect(tagged.every((d) => d !== undefined)).toBe(true);
      expect(await store.get("detectors", "shop")).toEqual({ kept: "yes", Tags: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`t${i}`, String(i)])) });
      expect(await store.update("detectors", "absent", (d) => d)).toBeUndefined();
      expect(await store.get("detectors", "absent")).toBeUndefined();
      await expect(
        store.update("detectors", "shop", () => {
          throw new Error("refused");
        }),
      ).rejects.toThrow("refused");
      expect(Object.keys(((await store.get<{ Tags: object }>("detectors", "shop"))!).Tags)).toHaveLength(12);
    });

    it("leases: one holder at a time, taken over once it runs out, never while marked done", async () => {
      const store = await makeStore();
      const claims = await Promise.all(Array.from({ length: 6 }, () => store.claim("i1", 1000, 0)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store.claim("i1", 2000, 999)).toBe(false);
      expect(await store.claim("i1", 3000, 1001)).toBe(true);
      // Racing takeovers of a lease that ran out: one wins.
      const takeovers = await Promise.all(Array.from({ length: 6 }, (_, i) => store.claim("i1", 5000 + i, 3001)));
      expect(takeovers.filter(Boolean)).toHaveLength(1);
      // A lease marked done (detection's marker) is not taken, however late; once the marker expires it is gone.
      await store.put("leases", "i2", { until: Number.MAX_SAFE_INTEGER }, { expiresAt: T0 + HOUR });
      expect(await store.claim("i2", T0 + 2 * HOUR, T0)).toBe(false);
      expect(await store.claim("i2", T0 + 3 * HOUR, T0 + 2 * HOUR)).toBe(true);
    });

    it("leases: given back by their holder alone, while their term is still its own", async () => {
      const store = await makeStore();
      const at = (minutes: number) => T0 + minutes * 60_000;
      expect(await store.claim("i4", at(15), at(0))).toBe(true);
      expect(await store.release("i4", at(14))).toBe(false);
      expect(await store.get("leases", "i4")).toEqual({ until: at(15) });
      // Taken over once it ran out: the first holder's give-back leaves it to the new one.
      expect(await store.claim("i4", at(31), at(16))).toBe(true);
      expect(await store.release("i4", at(15))).toBe(false);
      expect(await store.get("leases", "i4")).toEqual({ until: at(31) });
      const releases = await Promise.all(Array.from({ length: 6 }, () => store.release("i4", at(31))));
      expect(releases.filter(Boolean)).toHaveLength(1);
      expect(await store.get("leases", "i4")).toBeUndefined();
      expect(await store.claim("i4", at(20), at(5))).toBe(true);
      expect(await store.release("absent", at(15))).toBe(false);
    });

    it("leases: one written by its holder (a run handed to the shard queue extends its own) is taken over once it runs out, and not before", async () => {
      const store = await makeStore();
      expect(await store.claim("i3", 1000, 0)).toBe(true);
      await store.put("leases", "i3", { until: 5000 });
      expect(await store.claim("i3", 6000, 4999)).toBe(false);
      const takeovers = await Promise.all(Array.from({ length: 6 }, (_, i) => store.claim("i3", 9000 + i, 5001)));
      expect(takeovers.filter(Boolean)).toHaveLength(1);
    });

    it("round-trips records exactly, lists by id prefix in order, and deletes", async () => {
      const store = await makeStore();
      const record = { n: 0.1 + 0.2, s: "", nested: { list: [1, "two", null, { deep: true }] }, unicode: "Zürich — 東京" };
      await store.put("groups", "shop/orders/g1", { ...anomalyGroupRecord(), extra: record });
      expect(await store.get("groups", "shop/orders/g1")).toEqual({ ...anomalyGroupRecord(), extra: record });
      await store.put("metricSets", "shop/b", { n: 2 });
      await store.put("metricSets", "shop/a", { n: 1 });
      await store.put("metricSets", "other/a", { n: 3 });
      expect(await store.list("metricSets", "shop/")).toEqual([{ n: 1 }, { n: 2 }]);
      await store.delete("metricSets", "shop/a");
      expect(await store.get("metricSets", "shop/a")).toBeUndefined();
    });

    it("deletes by id prefix, across batches, and leaves the ids that only look alike", async () => {
      const store = await makeStore();
      const ids = Array.from({ length: 60 }, (_, i) => `shop/orders/${String(i).padStart(3, "0")}`);
      for (const id of ids) await store.put("executions", id, { id });
      await store.put("executions", "shop/orders-2/000", { kept: true });
      await store.put("quality", "shop/orders/000", { kept: true });
      expect(await store.deletePrefix("executions", "shop/orders/")).toBe(60);
      expect(await store.list("executions", "shop/")).toEqual([{ kept: true }]);
      expect(await store.get("quality", "shop/orders/000")).toEqual({ kept: true });
      expect(await store.deletePrefix("executions", "shop/orders/")).toBe(0);
    });

    it("writes a batch as one write after another: more than a request holds, a key named twice keeps the last, a write if absent is refused where a live record is", async () => {
      const store = await makeStore();
      await store.put("notices", "kept", { n: "first" });
      await store.put("notices", "stale", { n: "old" }, { expiresAt: T0 + HOUR });
      clock = T0 + 2 * HOUR;
      const many = Array.from({ length: 60 }, (_, i) => ({ table: "deliveries" as const, id: `d/${String(i).padStart(2, "0")}`, value: { i }, expiresAt: T0 + 3 * HOUR }));
      const written = await store.putMany([
        ...many,
        { table: "notices", id: "kept", value: { n: "second" }, ifAbsent: true },
        { table: "notices", id: "stale", value: { n: "new" }, ifAbsent: true },
        { table: "notices", id: "fresh", value: { n: "made" }, ifAbsent: true },
        { table: "notifications", id: "twice", value: { n: 1 } },
      ]);
      expect(written).toEqual([...many.map(() => true), false, true, true, true]);
      expect(await store.list("deliveries", "d/")).toEqual(many.map((w) => w.value));
      expect(await store.get("notices", "kept")).toEqual({ n: "first" });
      expect(await store.get("notices", "stale")).toEqual({ n: "new" });
      expect(await store.get("notices", "fresh")).toEqual({ n: "made" });
      // The same key twice in one batch: written in order, the last one stays; once there, a write if absent is refused.
      expect(
        await store.putMany([
          { table: "notifications", id: "twice", value: { n: 2 } },
          { table: "notifications", id: "twice", value: { n: 3 } },
          { table: "notifications", id: "new", value: { n: 1 }, ifAbsent: true },
          { table: "notifications", id: "new", value: { n: 2 }, ifAbsent: true },
        ]),
      ).toEqual([true, true, true, false]);
      expect(await store.get("notifications", "twice")).toEqual({ n: 3 });
      expect(await store.get("notifications", "new")).toEqual({ n: 1 });
      // Expiry is kept: past it, the batch's records read as absent.
      clock = T0 + 4 * HOUR;
      expect(await store.list("deliveries", "d/")).toEqual([]);
      expect(await store.putMany([])).toEqual([]);
    });

    it("reads a record past its expiry as absent everywhere, and lets it be created again", async () => {
      const store = await makeStore();
      await store.put("executions", "shop/orders/1", { n: 1 }, { expiresAt: T0 + HOUR });
      await store.put("executions", "shop/orders/2", { n: 2 });
      expect(await store.get("executions", "shop/orders/1")).toEqual({ n: 1 });
      clock = T0 + 2 * HOUR;
      expect(await store.get("executions", "shop/orders/1")).toBeUndefined();
      expect(await store.list("executions", "shop/")).toEqual([{ n: 2 }]);
      expect((await store.listPage("executions", { prefix: "shop/", limit: 10 })).items).toEqual([{ n: 2 }]);
      await store.create("executions", "shop/orders/1", { n: 3 });
      expect(await store.get("executions", "shop/orders/1")).toEqual({ n: 3 });
    });

    it("pages through a prefix in id order, the cursor continuing where the page ended", async () => {
      const store = await makeStore();
      const ids = Array.from({ length: 25 }, (_, i) => `a/${String(i).padStart(2, "0")}`);
      for (const id of [...ids].reverse()) await store.put("detectors", id, { id });
      await store.put("detectors", "a-b/00", { id: "a-b/00" });
      await store.put("detectors", "b/00", { id: "b/00" });
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listPage<{ id: string }>("detectors", { prefix: "a/", limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((r) => r.id));
        sizes.push(page.items.length);
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual(ids);
      expect(sizes).toEqual([10, 10, 5]);
      // A page that ends exactly at the end says so.
      expect((await store.listPage("detectors", { prefix: "a/", limit: 25 })).cursor).toBeUndefined();
      const all = await store.listPage<{ id: string }>("detectors", { limit: 1000 });
      expect(all.items.map((r) => r.id)).toEqual([...ids, "a-b/00", "b/00"].sort());
      expect(await store.listPage("detectors", { prefix: "zz/", limit: 5 })).toEqual({ items: [] });
      // Skipping ahead: ids after one that need not exist ('0' follows '/': past every "a/…").
      expect((await store.listPage<{ id: string }>("detectors", { after: "a0", limit: 1000 })).items.map((r) => r.id)).toEqual(["b/00"]);
      expect((await store.listPage<{ id: string }>("detectors", { prefix: "a/", after: "a/22", limit: 1000 })).items.map((r) => r.id)).toEqual(["a/23", "a/24"]);
      // An after outside the prefix never widens the listing beyond it: below it, the listing starts at the prefix; past it, it is empty.
      expect((await store.listPage<{ id: string }>("detectors", { prefix: "b/", after: "a", limit: 1000 })).items.map((r) => r.id)).toEqual(["b/00"]);
      expect((await store.listPage<{ id: string }>("detectors", { prefix: "a-b/", after: "a", limit: 1000 })).items.map((r) => r.id)).toEqual(["a-b/00"]);
      expect(await store.listPage("detectors", { prefix: "a/", after: "b", limit: 1000 })).toEqual({ items: [] });
    });

    it("refuses a cursor from another listing, a made-up one, and a limit out of range", async () => {
      const store = await makeStore();
      for (const p of ["a", "b"]) for (let i = 0; i < 3; i++) await store.put("detectors", `${p}/${i}`, { i });
      for (let i = 0; i < 3; i++) await store.put("groups", `shop/orders/g${i}`, anomalyGroupRecord({ score: 50 + i }));
      const { cursor } = await store.listPage("detectors", { prefix: "a/", limit: 1 });
      expect(cursor).toBeDefined();
      await expect(store.listPage("detectors", { prefix: "b/", limit: 1, cursor: cursor! })).rejects.toBeInstanceOf(ValidationException);
      await expect(store.listPage("alerts", { prefix: "a/", limit: 1, cursor: cursor! })).rejects.toBeInstanceOf(ValidationException);
      await expect(store.listPage("detectors", { prefix: "a/", limit: 1, cursor: "not-a-cursor" })).rejects.toBeInstanceOf(ValidationException);
      await expect(store.listPage("detectors", { prefix: "a/", limit: 1, cursor: Buffer.from('["x","b/0"]').toString("base64url") })).rejects.toBeInstanceOf(ValidationException);
      const ranked = await store.listRanked("groups", { partition: "shop/orders/", min: 10, limit: 1 });
      await expect(store.listRanked("groups", { partition: "shop/orders/", min: 70, limit: 1, cursor: ranked.cursor! })).rejects.toBeInstanceOf(ValidationException);
      await expect(store.listRanked("groups", { partition: "shop/orders/", min: 10, limit: 1, cursor: cursor! })).rejects.toBeInstanceOf(ValidationException);
      for (const limit of [0, -1, 1.5, 1001]) await expect(store.listPage("detectors", { limit })).rejects.toBeInstanceOf(ValidationException);
    });

    it("ranks a partition's records most severe first, then oldest first, then by id, above a minimum, and counts them per label", async () => {
      const store = await makeStore();
      const scores = [12, 95.5, 70, 70, 88, 40, 70, 100, 69.99, 70];
      // Groups g2, g3, g6 and g9 tie at 70: g6 started first, g9 with g2, then g3.
      const starts = [5, 5, 2, 3, 5, 0, 1, 5, 5, 2].map((h) => T0 + h * HOUR);
      for (const [i, score] of scores.entries()) {
        // The primary measure: the highest peak; every third group is led by views.
        const peaks = i % 3 === 0 ? { revenue: score - 1, views: score } : { revenue: score, views: score - 5 };
        await store.put("groups", `shop/orders/g${i}`, anomalyGroupRecord({ groupId: `g${i}`, score, peaks, startMs: starts[i]! }));
      }
      await store.put("groups", "shop/orders-2/x", anomalyGroupRecord({ groupId: "x", score: 99, startMs: T0 - HOUR }));
      await store.put("groups", "shop/orders/sub/y", anomalyGroupRecord({ groupId: "y", score: 99, startMs: T0 - HOUR }));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listRanked("groups", { partition: "shop/orders/", min: 70, limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((g) => `${g.id.slice("shop/orders/".length)}:${g.rank}:${(g.at - T0) / HOUR}:${g.label}`));
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual(["g7:100:5:revenue", "g1:95.5:5:revenue", "g4:88:5:revenue", "g6:70:1:views", "g2:70:2:revenue", "g9:70:2:views", "g3:70:3:views"]);
      expect(await store.countRanked("groups", "shop/orders/", 70)).toEqual({ total: 7, byLabel: { revenue: 4, views: 3 }, earliest: T0 + HOUR });
      expect(await store.countRanked("groups", "shop/orders/")).toEqual({ total: 10, byLabel: { revenue: 6, views: 4 }, earliest: T0 });
      expect(await store.countRanked("groups", "shop/nothing/", 0)).toEqual({ total: 0, byLabel: {} });
      const all = await store.listRanked("groups", { partition: "shop/orders/", limit: 100 });
      expect(all.items.map((g) => g.rank)).toEqual([...scores].sort((a, b) => b - a));
      expect(all.cursor).toBeUndefined();
      // An entry carries what a list shows: the group's span, beside its score (the rank) and primary measure (the label).
      expect(all.items[0]).toEqual({ id: "shop/orders/g7", rank: 100, at: T0 + 5 * HOUR, label: "revenue", summary: { startMs: T0 + 5 * HOUR, endMs: T0 + 6 * HOUR } });
    });

    it("keeps the ranking as records change: a new score moves a record, a deleted or expired one leaves it", async () => {
      const store = await makeStore();
      for (let i = 0; i < 4; i++) await store.put("groups", `shop/orders/g${i}`, anomalyGroupRecord({ groupId: `g${i}`, score: 60 + i }));
      await store.put("groups", "shop/orders/g0", anomalyGroupRecord({ groupId: "g0", score: 99, peaks: { views: 99 } }));
      await store.delete("groups", "shop/orders/g1");
      await store.put("groups", "shop/orders/g2", anomalyGroupRecord({ groupId: "g2", score: 62 }), { expiresAt: T0 + HOUR });
      clock = T0 + 2 * HOUR;
      const page = await store.listRanked("groups", { partition: "shop/orders/", min: 0, limit: 10 });
      expect(page.items.map((g) => [g.id, g.rank, g.label])).toEqual([
        ["shop/orders/g0", 99, "views"],
        ["shop/orders/g3", 63, "revenue"],
      ]);
      expect(await store.countRanked("groups", "shop/orders/", 0)).toEqual({ total: 2, byLabel: { views: 1, revenue: 1 }, earliest: T0 });
      expect(await store.deletePrefix("groups", "shop/orders/")).toBe(2);
      expect(await store.countRanked("groups", "shop/orders/")).toEqual({ total: 0, byLabel: {} });
    });

    it("skips a damaged record in every read and reports it, until a write repairs it", async () => {
      const { store, damage } = await make();
      for (let i = 0; i < 3; i++) await store.put("detectors", `shop/d${i}`, { i });
      for (let i = 0; i < 3; i++) await store.put("groups", `shop/orders/g${i}`, anomalyGroupRecord({ groupId: `g${i}`, score: 90 - i }));
      await damage("detectors", "shop/d1");
      await damage("groups", "shop/orders/g0");
      await damage("groups", "shop/orders/g1", "index entry");
      expect(await store.list("detectors", "shop/")).toEqual([{ i: 0 }, { i: 2 }]);
      expect((await store.listPage("detectors", { prefix: "shop/", limit: 10 })).items).toEqual([{ i: 0 }, { i: 2 }]);
      expect(await store.get("detectors", "shop/d1")).toBeUndefined();
      expect((await store.list<{ AnomalyGroupId: string }>("groups", "shop/orders/")).map((g) => g.AnomalyGroupId)).toEqual(["g1", "g2"]);
      // A ranked list reads the index alone: a damaged record keeps its entry; a damaged entry is skipped.
      const ranked = await store.listRanked("groups", { partition: "shop/orders/", limit: 10 });
      expect(ranked.items.map((g) => g.id)).toEqual(["shop/orders/g0", "shop/orders/g2"]);
      expect(damaged.map((d) => `${d.table}/${d.id}`)).toEqual(["detectors/shop/d1", "detectors/shop/d1", "detectors/shop/d1", "groups/shop/orders/g0", "groups/shop/orders/g1"]);
      expect(damaged.every((d) => d.reason.length > 0)).toBe(true);
      await store.put("detectors", "shop/d1", { i: 1, repaired: true });
      expect(await store.get("detectors", "shop/d1")).toEqual({ i: 1, repaired: true });
      await store.put("groups", "shop/orders/g1", anomalyGroupRecord({ groupId: "g1", score: 89 }));
      expect((await store.listRanked("groups", { partition: "shop/orders/", limit: 10 })).items.map((g) => g.id)).toEqual(["shop/orders/g0", "shop/orders/g1", "shop/orders/g2"]);
    });
  });
}
