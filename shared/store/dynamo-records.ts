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
  type QueryCommandInput,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { checkLimit, decodeCursor, encodeCursor, pageListing, pageStart, rankedListing, indexEntryOf, type CursorKey } from "./record-indexes.ts";
import { RecordContended, RecordExists, type DamagedRecord, type RecordWrite, type Page, type PageQuery, type RankCounts, type RankedEntry, type RankedQuery, type RankedSummaries, type RankedTable, type RecordStore, type RecordStoreOptions, type Table } from "./records.ts";

/**
 * Records in one DynamoDB table (single-table design): partition key = the record kind
 * (`pk`: detectors, metricSets, …), sort key = its id (`sk`), the record as gzipped JSON
 * (`body`, exact round trip, a quarter of the size). `create` and `claim` are conditional
 * puts, so of racing writers exactly one wins. Items are few attributes of fixed types, so
 * they are written as raw attribute values (no document marshalling to bundle).
 *
 * Records of a ranked table also carry their partition (`rpk`), a sort key that orders them
 * highest rank first, then lowest tie-break, then by id (`rsk`), their label (`rlabel`) and summary (`rsum`): the
 * sparse `ranked` index holds these alone, so a ranked page and its counts read small
 * entries of one index, never a record. (The index is eventually consistent, as GSIs are.)
 * Items TTL has not yet removed read as absent.
 */
export class DynamoRecordStore implements RecordStore {
  private readonly now: () => number;
  private readonly onDamaged: (damage: DamagedRecord) => void;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: RecordStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.onDamaged = options.onDamaged ?? (() => {});
  }

  async get<T>(table: Table, id: string): Promise<T | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(table, id), ConsistentRead: true }));
    return out.Item && this.live(out.Item) ? this.decode<T>(out.Item) : undefined;
  }

  async create<T>(table: Table, id: string, value: T): Promise<void> {
    if (!(await this.createItem(table, id, value))) throw new RecordExists(table, id);
  }

  /** True when created. */
  private async createItem(table: Table, id: string, value: unknown, expiresAt?: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item(table, id, value, expiresAt),
          // An item past its expiry that TTL has not removed yet reads as absent, so it may be created over.
          ConditionExpression: "attribute_not_exists(pk) OR #expires <= :now",
          ExpressionAttributeNames: { "#expires": TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ":now": { N: String(Math.floor(this.now() / 1000)) } },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  /**
   * Unconditional writes in BatchWriteItem requests of 25 (what one leaves unprocessed sent
   * again, after a pause); writes `ifAbsent` as conditional puts, at the same time (a batch
   * takes no condition). A request takes each key once: a batch that names a key twice is
   * written one write after the other, so the last one stays.
   */
  async putMany(writes: readonly RecordWrite[]): Promise<boolean[]> {
    const keys = new Set(writes.map((w) => `${w.table}\0${w.id}`));
    if (keys.size < writes.length) {
      const out: boolean[] = [];
      for (const w of writes) {
        if (w.ifAbsent) out.push(await this.createItem(w.table, w.id, w.value, w.expiresAt));
        else out.push((await this.put(w.table, w.id, w.value, w.expiresAt === undefined ? {} : { expiresAt: w.expiresAt }), true));
      }
      return out;
    }
    const puts = writes.filter((w) => !w.ifAbsent).map((w): WriteRequest => ({ PutRequest: { Item: item(w.table, w.id, w.value, w.expiresAt) } }));
    const [created] = await Promise.all([
      Promise.all(writes.map((w) => (w.ifAbsent ? this.createItem(w.table, w.id, w.value, w.expiresAt) : Promise.resolve(true)))),
      this.batchWrite(puts, `${puts.length} puts`),
    ]);
    return created;
  }

  async put<T>(table: Table, id: string, value: T, options: { expiresAt?: number } = {}): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item(table, id, value, options.expiresAt) }));
  }

  /**
   * Read, changed, then put on the condition that the stored body is still the one read
   * (its gzipped bytes); a writer that came between makes it read and change again.
   */
  async update<T>(table: Table, id: string, change: (current: T) => T): Promise<T | undefined> {
    for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
      const found = (await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(table, id), ConsistentRead: true }))).Item;
      const current = found && this.live(found) ? this.decode<T>(found) : undefined;
      if (current === undefined) return undefined;
      const next = change(current);
      const expires = found![TTL_ATTRIBUTE]?.N;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: item(table, id, next, expires === undefined ? undefined : Number(expires) * 1000),
            ConditionExpression: "body = :read",
            ExpressionAttributeValues: { ":read": found!["body"]! },
          }),
        );
        return next;
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
        // Another writer came between: back off a little, at random, so contenders spread out.
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
    throw new RecordContended(table, id, UPDATE_ATTEMPTS);
  }

  async list<T>(table: Table, prefix = ""): Promise<T[]> {
    return this.decoded<T>((await this.query(table, prefix)).filter((found) => this.live(found)));
  }

  async listPage<T>(table: Table, query: PageQuery): Promise<Page<T>> {
    checkLimit(query.limit);
    const listing = pageListing(table, query);
    const after = query.cursor === undefined ? pageStart(query.prefix ?? "", query.after) : decodeCursor(listing, query.cursor).id;
    if (after === "past") return { items: [] };
    const prefix = query.prefix ?? "";
    const found = await this.firstLive(query.limit + 1, {
      KeyConditionExpression: prefix ? "pk = :pk AND begins_with(sk, :prefix)" : "pk = :pk",
      ExpressionAttributeValues: prefix ? { ":pk": { S: table }, ":prefix": { S: prefix } } : { ":pk": { S: table } },
      ConsistentRead: true,
      ...(after === undefined ? {} : { ExclusiveStartKey: key(table, after) }),
    });
    const page = found.slice(0, query.limit);
    const last = page.at(-1);
    return { items: this.decoded<T>(page), ...(found.length > query.limit && last ? { cursor: encodeCursor(listing, { id: last["sk"]!.S! }) } : {}) };
  }

  /** One query of the index: its entries carry all a ranked list shows, so no record is read. */
  async listRanked<K extends RankedTable>(table: K, query: RankedQuery): Promise<Page<RankedEntry<RankedSummaries[K]>>> {
    checkLimit(query.limit);
    const listing = rankedListing(table, query);
    const after = query.cursor === undefined ? undefined : decodeCursor(listing, query.cursor);
    const found = await this.firstLive(query.limit + 1, {
      ...this.rankedCondition(table, query.partition, query.min),
      ...(after ? { ExclusiveStartKey: rankedKey(table, query.partition, after) } : {}),
    });
    const page = found.slice(0, query.limit);
    const items = page.flatMap((entry) => {
      const id = entry["sk"]!.S!;
      try {
        return [{ id, ...ofSortKey(entry[RANK_SORT]!.S!), label: entry[RANK_LABEL]?.S ?? "", summary: JSON.parse(entry[RANK_SUMMARY]?.S ?? "") as RankedSummaries[K] }];
      } catch (e) {
        this.onDamaged({ table, id, reason: `its index entry: ${e instanceof Error ? e.message : String(e)}` });
        return [];
      }
    });
    const last = page.at(-1);
    return { items, ...(found.length > query.limit && last ? { cursor: encodeCursor(listing, { id: last["sk"]!.S!, ...ofSortKey(last[RANK_SORT]!.S!) }) } : {}) };
  }

  /** Reads every index entry of the partition above the minimum: a few dozen bytes each, never a record. */
  async countRanked(table: RankedTable, partition: string, min?: number): Promise<RankCounts> {
    const byLabel: Record<string, number> = {};
    let total = 0;
    let earliest: number | undefined;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ...this.rankedCondition(table, partition, min),
          ProjectionExpression: `${RANK_SORT}, ${RANK_LABEL}, #expires`,
          ExpressionAttributeNames: { "#expires": TTL_ATTRIBUTE },
          ExclusiveStartKey: start,
        }),
      );
      for (const entry of page.Items ?? []) {
        if (!this.live(entry)) continue;
        const label = entry[RANK_LABEL]?.S ?? "";
        byLabel[label] = (byLabel[label] ?? 0) + 1;
        total++;
        earliest = Math.min(earliest ?? Infinity, ofSortKey(entry[RANK_SORT]!.S!).at);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return { total, byLabel, ...(earliest === undefined ? {} : { earliest }) };
  }

  async delete(table: Table, id: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(table, id) }));
  }

  /** In batches of DynamoDB's limit of 25; what a batch leaves unprocessed (throttling) is sent again, after a pause. */
  async deletePrefix(table: Table, prefix: string): Promise<number> {
    const found = await this.query(table, prefix, `pk, sk, ${TTL_ATTRIBUTE}`);
    await this.batchWrite(
      found.map((f) => ({ DeleteRequest: { Key: { pk: f["pk"]!, sk: f["sk"]! } } })),
      `deletes of ${table}/${prefix}…`,
    );
    return found.filter((f) => this.live(f)).length;
  }

  /** In requests of DynamoDB's limit of 25, at once; what a request leaves unprocessed (throttling) is sent again, after a pause. */
  private async batchWrite(requests: readonly WriteRequest[], what: string): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += WRITE_BATCH) chunks.push(requests.slice(i, i + WRITE_BATCH));
    await Promise.all(
      chunks.map(async (chunk) => {
        let pending = chunk;
        for (let attempt = 0; pending.length; attempt++) {
          if (attempt === UNPROCESSED_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} ${what} unprocessed after ${attempt} attempts`);
          if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
          pending = out.UnprocessedItems?.[this.tableName] ?? [];
        }
      }),
    );
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
          Item: item("leases", id, { until }, until + 86_400_000),
          ConditionExpression: "attribute_not_exists(pk) OR #until < :now OR #expires <= :nowSeconds",
          ExpressionAttributeNames: { "#until": "until", "#expires": TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ":now": { N: String(now) }, ":nowSeconds": { N: String(Math.floor(now / 1000)) } },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async release(id: string, until: number): Promise<boolean> {
    try {
      await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key("leases", id), ConditionExpression: "#until = :until", ExpressionAttributeNames: { "#until": "until" }, ExpressionAttributeValues: { ":until": { N: String(until) } } }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  /** Past its expiry (TTL's epoch seconds) reads as absent, as TTL may take up to two days to remove it. */
  private live(found: Record<string, AttributeValue>): boolean {
    const expires = found[TTL_ATTRIBUTE]?.N;
    return expires === undefined || Number(expires) * 1000 > this.now();
  }

  private decoded<T>(found: readonly Record<string, AttributeValue>[]): T[] {
    return found.flatMap((f) => {
      try {
        return [JSON.parse(gunzipSync(f["body"]?.B ?? new Uint8Array()).toString("utf8")) as T];
      } catch (e) {
        this.onDamaged({ table: f["pk"]?.S as Table, id: f["sk"]?.S ?? "", reason: e instanceof Error ? e.message : String(e) });
        return [];
      }
    });
  }

  private decode<T>(found: Record<string, AttributeValue>): T | undefined {
    return this.decoded<T>([found])[0];
  }

  private rankedCondition(table: RankedTable, partition: string, min?: number): Pick<QueryCommandInput, "IndexName" | "KeyConditionExpression" | "ExpressionAttributeValues"> {
    const bounded = min !== undefined && min !== -Infinity;
    return {
      IndexName: RANKED_INDEX,
      KeyConditionExpression: bounded ? `${RANK_PARTITION} = :p AND ${RANK_SORT} < :below` : `${RANK_PARTITION} = :p`,
      ExpressionAttributeValues: { ":p": { S: rankPartition(table, partition) }, ...(bounded ? { ":below": { S: rankBelow(min) } } : {}) },
    };
  }

  /** Queries page by page until `count` live items are found or none are left. */
  private async firstLive(count: number, input: Omit<QueryCommandInput, "Limit" | "TableName">): Promise<Record<string, AttributeValue>[]> {
    const out: Record<string, AttributeValue>[] = [];
    let start = input.ExclusiveStartKey;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start, Limit: count - out.length }));
      out.push(...(page.Items ?? []).filter((f) => this.live(f)));
      start = page.LastEvaluatedKey;
    } while (start && out.length < count);
    return out;
  }
}

const WRITE_BATCH = 25;
const UNPROCESSED_ATTEMPTS = 8;

/** The attribute DynamoDB's TTL reads (epoch seconds), enabled on the table in serverless.yml. */
export const TTL_ATTRIBUTE = "expiresAt";

const key = (table: Table, id: string): Record<string, AttributeValue> => ({ pk: { S: table }, sk: { S: id } });

/** A lease's term, beside its body, where claim's condition reads it: a lease its holder writes (extends, or marks done) runs out as a claimed one does. */
const leaseTerm = (table: Table, value: unknown): Record<string, AttributeValue> => {
  const until = table === "leases" && typeof value === "object" && value !== null ? (value as { until?: unknown }).until : undefined;
  return typeof until === "number" ? { until: { N: String(until) } } : {};
};

/** The item a record is written as: its key, its body gzipped, its expiry and ranked index entry (an item holds 400 KB at most). */
export function item(table: Table, id: string, value: unknown, expiresAt?: number): Record<string, AttributeValue> {
  const entry = indexEntryOf(table, id, value);
  return {
    ...key(table, id),
    ...leaseTerm(table, value),
    body: { B: gzipSync(JSON.stringify(value)) },
    ...(expiresAt === undefined ? {} : { [TTL_ATTRIBUTE]: { N: String(Math.ceil(expiresAt / 1000)) } }),
    ...(entry ? { [RANK_PARTITION]: { S: rankPartition(table, entry.partition) }, [RANK_SORT]: { S: rankSortKey(entry.rank, entry.at, id) }, [RANK_LABEL]: { S: entry.label }, [RANK_SUMMARY]: { S: entry.summary } } : {}),
  };
}

/** How many times an update reads again after losing to another writer. */
const UPDATE_ATTEMPTS = 25;

/** The ranked index: its name and the attributes it is keyed by and holds. */
export const RANKED_INDEX = "ranked";
const RANK_PARTITION = "rpk";
const RANK_SORT = "rsk";
const RANK_LABEL = "rlabel";
const RANK_SUMMARY = "rsum";

const rankPartition = (table: Table, partition: string) => `${table}#${partition}`;

/**
 * The ranked sort key: the rank as 16 hex digits that sort in descending numeric order,
 * then the tie-break as 16 that sort in ascending order, then the id, so entries sort as
 * in SQLite. A float's bits sort as unsigned integers once negatives are flipped and
 * positives given the sign bit; inverted, they sort the other way.
 */
const SIGN = 1n << 63n;
const ALL = (1n << 64n) - 1n;

function ascendingBits(n: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n === 0 ? 0 : n);
  const bits = view.getBigUint64(0);
  return bits & SIGN ? ~bits & ALL : bits | SIGN;
}

function fromAscendingBits(ascending: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, ascending & SIGN ? ascending ^ SIGN : ~ascending & ALL);
  return view.getFloat64(0);
}

const hex16 = (bits: bigint) => bits.toString(16).padStart(16, "0");
export const rankSortKey = (rank: number, at: number, id: string) => hex16(~ascendingBits(rank) & ALL) + hex16(ascendingBits(at)) + id;
/** The least sort key of a rank below `min`: keys less than it rank at least `min`. */
const rankBelow = (min: number) => hex16((~ascendingBits(min) & ALL) + 1n);

/** The rank and tie-break a sort key was made of. */
export function ofSortKey(sortKey: string): { rank: number; at: number } {
  return { rank: fromAscendingBits(~BigInt(`0x${sortKey.slice(0, 16)}`) & ALL), at: fromAscendingBits(BigInt(`0x${sortKey.slice(16, 32)}`)) };
}

const rankedKey = (table: RankedTable, partition: string, after: CursorKey): Record<string, AttributeValue> => ({
  ...key(table, after.id),
  [RANK_PARTITION]: { S: rankPartition(table, partition) },
  [RANK_SORT]: { S: rankSortKey(after.rank!, after.at!, after.id) },
});

/** The table's key schema, for the serverless resources and the tests alike. */
export const recordTableDefinition = (TableName: string): CreateTableCommandInput => ({
  TableName,
  BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
    { AttributeName: RANK_PARTITION, AttributeType: "S" },
    { AttributeName: RANK_SORT, AttributeType: "S" },
  ],
  KeySchema: [
    { AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
  // Sparse: only ranked tables' items carry its keys.
  GlobalSecondaryIndexes: [
    {
      IndexName: RANKED_INDEX,
      KeySchema: [
        { AttributeName: RANK_PARTITION, KeyType: "HASH" },
        { AttributeName: RANK_SORT, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [RANK_LABEL, RANK_SUMMARY, TTL_ATTRIBUTE] },
    },
  ],
});
