import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { CreateTableCommand, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { withBatchedPuts } from "../../../shared/store/batched-puts.ts";
import { DynamoRecordStore, ofSortKey, rankSortKey, recordTableDefinition, TTL_ATTRIBUTE } from "../../../shared/store/dynamo-records.ts";
import type { RecordStoreOptions } from "../../../shared/store/records.ts";
import { anomalyGroupRecord, HOUR } from "../../builders.ts";
import { startDynamoDbLocal } from "../../servers.ts";
import { recordStoreContract } from "./record-store-contract.ts";

/** The DynamoDB adapter through the real AWS SDK v3 client against AWS's DynamoDB Local. */
let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let tables = 0;
beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
});
afterAll(() => dynamo?.stop());

/** A store over a fresh table, so each contract case starts empty. */
async function freshStore(options: RecordStoreOptions = {}): Promise<DynamoRecordStore> {
  const name = `contract-${tables++}`;
  await dynamo.client.send(new CreateTableCommand(recordTableDefinition(name)));
  return new DynamoRecordStore(dynamo.client, name, options);
}

recordStoreContract("DynamoRecordStore", async (options) => {
  const store = await freshStore(options);
  const TableName = `contract-${tables - 1}`;
  return {
    store,
    // A body that is not gzip, or a summary that is not JSON; the other attributes left as they were.
    damage: async (table, id, part = "record") => {
      const [UpdateExpression, value] = part === "record" ? ["SET body = :v", { B: new TextEncoder().encode("{torn") }] : ["SET rsum = :v", { S: "{torn" }];
      await dynamo.client.send(new UpdateItemCommand({ TableName, Key: { pk: { S: table }, sk: { S: id } }, UpdateExpression, ExpressionAttributeValues: { ":v": value } }));
    },
  };
});

describe("DynamoRecordStore", () => {
  it("sorts by rank, highest first, then by tie-break, lowest first, and reads both back from the sort key, for every number", () => {
    const n = fc.double({ noNaN: true });
    const order = (x: number, y: number) => Math.sign(x - y) || 0;
    fc.assert(
      fc.property(n, n, n, n, (ra, aa, rb, ab) => {
        const [ka, kb] = [rankSortKey(ra, aa, "x"), rankSortKey(rb, ab, "x")];
        expect(Math.sign(ka < kb ? -1 : ka > kb ? 1 : 0)).toBe(order(rb, ra) || order(aa, ab));
        expect(ofSortKey(ka)).toEqual({ rank: ra === 0 ? 0 : ra, at: aa === 0 ? 0 : aa });
      }),
    );
  });

  it("writes the TTL attribute, in epoch seconds, when a record may expire", async () => {
    const store = await freshStore();
    await store.put("executions", "shop/orders/1", { ok: true }, { expiresAt: 1_700_000_000_500 });
    await store.put("groups", "shop/orders/g", anomalyGroupRecord());
    const raw = async (pk: string, sk: string) => (await dynamo.client.send(new GetItemCommand({ TableName: `contract-${tables - 1}`, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item;
    expect((await raw("executions", "shop/orders/1"))?.[TTL_ATTRIBUTE]).toEqual({ N: "1700000001" });
    expect((await raw("groups", "shop/orders/g"))?.[TTL_ATTRIBUTE]).toBeUndefined();
  });

  it("lists across query pages", async () => {
    const store = await freshStore();
    // Incompressible bodies of ~12 KB: 120 of them span more than one 1 MB query page.
    for (let i = 0; i < 120; i++) await store.put("metricSets", `shop/${String(i).padStart(3, "0")}`, { i, noise: randomBytes(9000).toString("base64") });
    const listed = await store.list<{ i: number }>("metricSets", "shop/");
    expect(listed.map((r) => r.i)).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });

  it("pages a ranked list of 150 through the index's keys", async () => {
    const store = await freshStore();
    for (let i = 0; i < 150; i++) await store.put("groups", `shop/orders/g${String(i).padStart(3, "0")}`, anomalyGroupRecord({ groupId: `g${i}`, score: i % 101 }));
    const page = await store.listRanked("groups", { partition: "shop/orders/", limit: 140 });
    expect(page.items).toHaveLength(140);
    const ranked = Array.from({ length: 150 }, (_, i) => i % 101).sort((a, b) => b - a);
    expect(page.items.map((g) => g.rank)).toEqual(ranked.slice(0, 140));
    const rest = await store.listRanked("groups", { partition: "shop/orders/", limit: 140, cursor: page.cursor! });
    expect(rest.items.map((g) => g.rank)).toEqual(ranked.slice(140));
    expect(rest.cursor).toBeUndefined();
  });

  it("keeps the ranked index's attributes on the item: partition, a sort key ordering by rank then id, label and summary", async () => {
    const store = await freshStore();
    await store.put("groups", "shop/orders/g", anomalyGroupRecord({ score: 87.5, peaks: { views: 87.5, revenue: 10 } }));
    await store.put("detectors", "shop", { ok: true });
    const raw = async (pk: string, sk: string) => (await dynamo.client.send(new GetItemCommand({ TableName: `contract-${tables - 1}`, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item;
    expect(await raw("groups", "shop/orders/g")).toMatchObject({ rpk: { S: "groups#shop/orders/" }, rsk: { S: expect.stringMatching(/^[0-9a-f]{32}shop\/orders\/g$/) }, rlabel: { S: "views" }, rsum: { S: expect.stringMatching(/^\{"startMs":/) } });
    expect(Object.keys((await raw("detectors", "shop"))!).sort()).toEqual(["body", "pk", "sk"]);
  });

  it("with puts in batches: one turn's puts share BatchWriteItem requests of 25, and a record DynamoDB refuses fails its own put alone", async () => {
    const store = withBatchedPuts(await freshStore());
    const commands: string[] = [];
    const name = `count-${tables}`;
    dynamo.client.middlewareStack.add((next, context) => (args) => (commands.push(context.commandName ?? ""), next(args)), { step: "initialize", name });
    try {
      await Promise.all(Array.from({ length: 60 }, (_, i) => store.put("deliveries", `d/${String(i).padStart(2, "0")}`, { i }, { expiresAt: Date.now() + HOUR })));
      expect(commands).toEqual(["BatchWriteItemCommand", "BatchWriteItemCommand", "BatchWriteItemCommand"]);
      expect((await store.list<{ i: number }>("deliveries", "d/")).map((d) => d.i)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      // Over DynamoDB's 400 KB item limit even gzipped: its request is refused, so the batch is made again a put at a time.
      const huge = { noise: randomBytes(600_000).toString("base64") };
      const results = await Promise.allSettled([store.put("notices", "a", { n: 1 }), store.put("notices", "huge", huge), store.put("notices", "b", { n: 2 })]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect([await store.get("notices", "a"), await store.get("notices", "huge"), await store.get("notices", "b")]).toEqual([{ n: 1 }, undefined, { n: 2 }]);
    } finally {
      dynamo.client.middlewareStack.remove(name);
    }
  });

  it("with puts in batches: a batch refused and made again a put at a time keeps a record's last put, however slow its first one", async () => {
    const store = withBatchedPuts(await freshStore());
    const name = `slow-first-${tables}`;
    // Record k's first put answers late: made at once with the second, the second would land first and the first stay.
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        const item = (args.input as { Item?: { sk?: { S?: string }; body?: { B?: Uint8Array } } }).Item;
        if (context.commandName === "PutItemCommand" && item?.sk?.S === "k" && item.body?.B && JSON.parse(gunzipSync(item.body.B).toString()).n === 1) await new Promise((r) => setTimeout(r, 300));
        return next(args);
      },
      { step: "initialize", name },
    );
    try {
      const huge = { noise: randomBytes(600_000).toString("base64") };
      const results = await Promise.allSettled([store.put("notices", "k", { n: 1 }), store.put("notices", "huge", huge), store.put("notices", "k", { n: 2 })]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(await store.get("notices", "k")).toEqual({ n: 2 });
    } finally {
      dynamo.client.middlewareStack.remove(name);
    }
  });
});
