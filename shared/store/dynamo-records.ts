import { gunzipSync, gzipSync } from "node:zlib";
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { RecordExists, type RecordStore, type Table } from "./records.ts";

/**
 * Records in one DynamoDB table (single-table design): partition key = the record kind
 * (`pk`: detectors, metricSets, …), sort key = its id (`sk`), the record as gzipped JSON
 * (`body`, exact round trip, a quarter of the size). `create` and `claim` are conditional
 * puts, so of racing writers exactly one wins. Items are few attributes of fixed types, so
 * they are written as raw attribute values (no document marshalling to bundle).
 */
export class DynamoRecordStore implements RecordStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get<T>(table: Table, id: string): Promise<T | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(table, id), ConsistentRead: true }));
    return out.Item ? decode<T>(out.Item) : undefined;
  }

  async create<T>(table: Table, id: string, value: T): Promise<void> {
    try {
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item(table, id, value), ConditionExpression: "attribute_not_exists(pk)" }));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new RecordExists(table, id);
      throw e;
    }
  }

  async put<T>(table: Table, id: string, value: T, options: { expiresAt?: number } = {}): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item(table, id, value, options.expiresAt) }));
  }

  async list<T>(table: Table, prefix = ""): Promise<T[]> {
    return (await this.query(table, prefix)).map((found) => decode<T>(found));
  }

  async delete(table: Table, id: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(table, id) }));
  }

  /** In batches of DynamoDB's limit of 25; what a batch leaves unprocessed (throttling) is sent again, after a pause. */
  async deletePrefix(table: Table, prefix: string): Promise<number> {
    const keys = (await this.query(table, prefix, "pk, sk")).map((found) => ({ pk: found["pk"]!, sk: found["sk"]! }));
    for (let i = 0; i < keys.length; i += WRITE_BATCH) {
      let pending: WriteRequest[] = keys.slice(i, i + WRITE_BATCH).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt === UNPROCESSED_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} deletes of ${table}/${prefix}… unprocessed after ${attempt} attempts`);
        if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
    return keys.length;
  }

  private async query(table: Table, prefix: string, projection?: string): Promise<Record<string, AttributeValue>[]> {
    const out: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: prefix ? "pk = :pk AND begins_with(sk, :prefix)" : "pk = :pk",
          ExpressionAttributeValues: prefix ? { ":pk": { S: table }, ":prefix": { S: prefix } } : { ":pk": { S: table } },
          ...(projection ? { ProjectionExpression: projection } : {}),
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async claim(id: string, until: number, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          // An abandoned lease goes a day after it ran out.
          Item: { ...item("leases", id, { until }, until + 86_400_000), until: { N: String(until) } },
          ConditionExpression: "attribute_not_exists(pk) OR #until < :now",
          ExpressionAttributeNames: { "#until": "until" },
          ExpressionAttributeValues: { ":now": { N: String(now) } },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}

const WRITE_BATCH = 25;
const UNPROCESSED_ATTEMPTS = 8;

/** The attribute DynamoDB's TTL reads (epoch seconds), enabled on the table in serverless.yml. */
export const TTL_ATTRIBUTE = "expiresAt";

const key = (table: Table, id: string): Record<string, AttributeValue> => ({ pk: { S: table }, sk: { S: id } });

function item(table: Table, id: string, value: unknown, expiresAt?: number): Record<string, AttributeValue> {
  return { ...key(table, id), body: { B: gzipSync(JSON.stringify(value)) }, ...(expiresAt === undefined ? {} : { [TTL_ATTRIBUTE]: { N: String(Math.ceil(expiresAt / 1000)) } }) };
}

const decode = <T>(found: Record<string, AttributeValue>): T => JSON.parse(gunzipSync(found["body"]?.B ?? new Uint8Array()).toString("utf8")) as T;

/** The table's key schema, for the serverless resources and the tests alike. */
export const recordTableDefinition = (TableName: string): CreateTableCommandInput => ({
  TableName,
  BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
  ],
  KeySchema: [
    { AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
});
