import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore } from "../../../shared/store/dynamo-records.ts";
import { RecordExists } from "../../../shared/store/records.ts";
import { startDynamoDbLocal } from "../../servers.ts";

/** The DynamoDB adapter through the real AWS SDK v3 client against AWS's DynamoDB Local. */
describe("DynamoRecordStore against DynamoDB Local", () => {
  let store: DynamoRecordStore;

  beforeAll(async () => {
    const { client, tableName } = await startDynamoDbLocal();
    store = new DynamoRecordStore(client, tableName);
  });

  it("creates once: of racing creators exactly one wins", async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.create("executions", "shop/orders/1609459200000", { writer: i })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected" && r.reason instanceof RecordExists)).toHaveLength(7);
    const winner = results.findIndex((r) => r.status === "fulfilled");
    expect(await store.get("executions", "shop/orders/1609459200000")).toEqual({ writer: winner });
  });

  it("leases: of racing claimers one wins, and an expired lease can be taken over", async () => {
    const claims = await Promise.all(Array.from({ length: 6 }, () => store.claim("shop/orders/1", 1000, 0)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claim("shop/orders/1", 2000, 999)).toBe(false);
    expect(await store.claim("shop/orders/1", 2000, 1001)).toBe(true);
  });

  it("round-trips records exactly, lists by prefix across pages, and deletes", async () => {
    const record = { n: 0.1 + 0.2, s: "", nested: { list: [1, "two", null, { deep: true }] }, unicode: "Zürich — 東京" };
    await store.put("groups", "shop/orders/g1", record);
    expect(await store.get("groups", "shop/orders/g1")).toEqual(record);
    // Incompressible bodies of ~12 KB: 120 of them span more than one 1 MB query page.
    for (let i = 0; i < 120; i++) await store.put("metricSets", `shop/${String(i).padStart(3, "0")}`, { i, noise: randomBytes(9000).toString("base64") });
    await store.put("metricSets", "other/a", { i: -1 });
    const listed = await store.list<{ i: number }>("metricSets", "shop/");
    expect(listed.map((r) => r.i)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(await store.list("metricSets")).toHaveLength(121);
    await store.delete("metricSets", "other/a");
    expect(await store.get("metricSets", "other/a")).toBeUndefined();
  });
});
