import { randomBytes } from "node:crypto";
import { CreateTableCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore, recordTableDefinition, TTL_ATTRIBUTE } from "../../../shared/store/dynamo-records.ts";
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
async function freshStore(): Promise<DynamoRecordStore> {
  const name = `contract-${tables++}`;
  await dynamo.client.send(new CreateTableCommand(recordTableDefinition(name)));
  return new DynamoRecordStore(dynamo.client, name);
}

recordStoreContract("DynamoRecordStore", freshStore);

describe("DynamoRecordStore", () => {
  it("writes the TTL attribute, in epoch seconds, when a record may expire", async () => {
    const store = await freshStore();
    await store.put("executions", "shop/orders/1", { ok: true }, { expiresAt: 1_700_000_000_500 });
    await store.put("groups", "shop/orders/g", { ok: true });
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
});
