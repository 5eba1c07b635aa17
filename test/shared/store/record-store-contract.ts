import { describe, expect, it } from "vitest";
import { RecordExists, type RecordStore } from "../../../shared/store/records.ts";

/** What every RecordStore adapter must do, run against each of them. */
export function recordStoreContract(name: string, makeStore: () => Promise<RecordStore>): void {
  describe(`${name} (record store contract)`, () => {
    it("creates once: of racing creators exactly one wins", async () => {
      const store = await makeStore();
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.create("detectors", "shop", { writer: i })));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(results.filter((r) => r.status === "rejected" && r.reason instanceof RecordExists)).toHaveLength(7);
      const winner = results.findIndex((r) => r.status === "fulfilled");
      expect(await store.get("detectors", "shop")).toEqual({ writer: winner });
    });

    it("leases: one holder at a time, taken over once it runs out", async () => {
      const store = await makeStore();
      const claims = await Promise.all(Array.from({ length: 6 }, () => store.claim("i1", 1000, 0)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store.claim("i1", 2000, 999)).toBe(false);
      expect(await store.claim("i1", 3000, 1001)).toBe(true);
    });

    it("round-trips records exactly, lists by id prefix in order, and deletes", async () => {
      const store = await makeStore();
      const record = { n: 0.1 + 0.2, s: "", nested: { list: [1, "two", null, { deep: true }] }, unicode: "Zürich — 東京" };
      await store.put("groups", "shop/orders/g1", record);
      expect(await store.get("groups", "shop/orders/g1")).toEqual(record);
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
  });
}
