import { randomBytes } from "node:crypto";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { DynamoRecordStore, recordTableDefinition } from "../../../shared/store/dynamo-records.ts";
import { startDynamoDbLocal } from "../../servers.ts";
import { recordStoreContract } from "./record-store-contract.ts";

/** The DynamoDB adapter through the real AWS SDK v3 client against AWS's DynamoDB Local. */
let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let tables = 0;
beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
});

/** A store over a fresh table, so each contract case starts empty. */
async function freshStore(): Promise<DynamoRecordStore> {
  const name = `contract-${tables++}`;
  await dynamo.client.send(new CreateTableCommand(recordTableDefinition(name)));
  return new DynamoRecordStore(dynamo.client, name);
}

recordStoreContract("DynamoRecordStore", freshStore);

describe("DynamoRecordStore", () => {
  it("lists across query pages", async () => {
    const store = await freshStore();
    // Incompressible bodies of ~12 KB: 120 of them span more than one 1 MB query page.
    for (let i = 0; i < 120; i++) await store.put("metricSets", `shop/${String(i).padStart(3, "0")}`, { i, noise: randomBytes(9000).toString("base64") });
    const listed = await store.list<{ i: number }>("metricSets", "shop/");
    expect(listed.map((r) => r.i)).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });
});
