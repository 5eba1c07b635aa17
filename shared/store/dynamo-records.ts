import { gunzipSync, gzipSync } from "node:zlib";
import { ConditionalCheckFailedException, type CreateTableCommandInput, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { RecordExists, type RecordStore, type Table } from "./records.ts";

/**
 * Records in one DynamoDB table (single-table design): partition key = the record kind
 * (`pk`: detectors, metricSets, …), sort key = its id (`sk`), the record as gzipped JSON
 * (`body`, exact round trip, a quarter of the size). `create` is a conditional put
 * (`attribute_not_exists`), so of racing writers exactly one wins.
 */
export class DynamoRecordStore implements RecordStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async get<T>(table: Table, id: string): Promise<T | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: table, sk: id }, ConsistentRead: true }));
    return out.Item ? decode<T>(out.Item["body"]) : undefined;
  }

  async create<T>(table: Table, id: string, value: T): Promise<void> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: table, sk: id, body: encode(value) }, ConditionExpression: "attribute_not_exists(pk)" }));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new RecordExists(table, id);
      throw e;
    }
  }

  async put<T>(table: Table, id: string, value: T, options: { expiresAt?: number } = {}): Promise<void> {
    const ttl = options.expiresAt === undefined ? {} : { [TTL_ATTRIBUTE]: Math.ceil(options.expiresAt / 1000) };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: table, sk: id, body: encode(value), ...ttl } }));
  }

  async list<T>(table: Table, prefix = ""): Promise<T[]> {
    const out: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: prefix ? "pk = :pk AND begins_with(sk, :prefix)" : "pk = :pk",
          ExpressionAttributeValues: prefix ? { ":pk": table, ":prefix": prefix } : { ":pk": table },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) out.push(decode<T>(item["body"]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async claim(id: string, until: number, now: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          // An abandoned lease goes a day after it ran out.
          Item: { pk: "leases", sk: id, until, body: encode({ until }), [TTL_ATTRIBUTE]: Math.ceil(until / 1000) + 86_400 },
          ConditionExpression: "attribute_not_exists(pk) OR #until < :now",
          ExpressionAttributeNames: { "#until": "until" },
          ExpressionAttributeValues: { ":now": now },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async delete(table: Table, id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: table, sk: id } }));
  }
}

/** The attribute DynamoDB's TTL reads (epoch seconds), enabled on the table in serverless.yml. */
export const TTL_ATTRIBUTE = "expiresAt";

const encode = (value: unknown) => gzipSync(JSON.stringify(value));
const decode = <T>(body: unknown): T => JSON.parse(gunzipSync(body as Uint8Array).toString("utf8")) as T;

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
