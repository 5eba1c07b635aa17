import { join } from "node:path";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Delivery, ParkedDelivery } from "../../../shared/alerts/delivery.ts";
import { ReplayIncomplete } from "../../../shared/alerts/replay.ts";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { withBatchedPuts } from "../../../shared/store/batched-puts.ts";
import { DynamoRecordStore, recordTableDefinition } from "../../../shared/store/dynamo-records.ts";
import { PARKED_PAGE, PARKED_RETENTION_MS, RecordDeadLetters } from "../../../shared/store/record-dead-letters.ts";
import type { RecordStore } from "../../../shared/store/records.ts";
import { loadSqlite, SqliteRecordStore } from "../../../shared/store/sqlite-records.ts";
import { alertNamed, anomalyGroupEvent, T0, tempDir } from "../../builders.ts";
import { startDynamoDbLocal } from "../../servers.ts";

const A = "111111111111";
const B = "222222222222";
const C = "333333333333";
const NOW = T0 + 3_600_000;

/** A parked delivery of `account`'s alert to the `revision`th event. */
const parked = (account: string, revision: number): ParkedDelivery => {
  const message = alertMessage(alertNamed("a"), anomalyGroupEvent({ revision }), "first", "x");
  const delivery: Delivery = { deliveryId: message.deliveryId, alertArn: `arn:aws:lookoutmetrics:us-east-1:${account}:Alert:a`, message };
  return { delivery, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 };
};
const accountOf = (p: ParkedDelivery) => p.delivery.alertArn.split(":")[4];
const revisionOf = (p: ParkedDelivery) => Number(p.delivery.deliveryId.split("#").pop());

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let tables = 0;
beforeAll(async () => {
  dynamo = await startDynamoDbLocal("parked-records");
}, 60_000);
afterAll(() => dynamo?.stop());

/** Both record stores, each on a fresh table or file: DynamoDB Local (as the AWS mode batches its puts) and SQLite. */
const stores: [string, () => Promise<RecordStore>][] = [
  [
    "DynamoDB",
    async () => {
      const name = `parked-${tables++}`;
      await dynamo.client.send(new CreateTableCommand(recordTableDefinition(name)));
      return withBatchedPuts(new DynamoRecordStore(dynamo.client, name, { now: () => NOW }));
    },
  ],
  ["SQLite", async () => SqliteRecordStore.open(join(await tempDir(), "records.db"), { now: () => NOW })],
];

describe.each(stores)("parked deliveries in the record store (%s)", (_, open) => {
  it("drains one account's alone, a page at a time: another account's are never handed over, and stay", async () => {
    const records = await open();
    const dead = new RecordDeadLetters(records);
    // More than two pages of A's, and B's between them in no order of their own.
    await Promise.all(Array.from({ length: 2 * PARKED_PAGE + 10 }, (_, i) => dead.park(parked(A, i + 1))));
    await Promise.all(Array.from({ length: 30 }, (_, i) => dead.park(parked(B, i + 1))));
    const seen: ParkedDelivery[] = [];
    // A's replay sends all but every fifth.
    expect(await dead.drain(async (p) => (seen.push(p), revisionOf(p) % 5 !== 0), { account: A })).toEqual({ retried: 48, remaining: 12 });
    expect(seen).toHaveLength(60);
    expect(new Set(seen.map(accountOf))).toEqual(new Set([A]));
    // What A left, and all of B's, are there for the next drain.
    expect((await records.list<ParkedDelivery>("parked", `${A}/`)).map(revisionOf).sort((x, y) => x - y)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
    expect(await records.list("parked", `${B}/`)).toHaveLength(30);
    // The operator's drain (no account) takes every account's.
    const all: string[] = [];
    expect(await dead.drain(async (p) => (all.push(accountOf(p)!), true))).toEqual({ retried: 42, remaining: 0 });
    expect(all.filter((a) => a === B)).toHaveLength(30);
    expect(await records.list("parked")).toEqual([]);
  });

  it("leaves another account's drain its deliveries while one account's is still under way", async () => {
    const dead = new RecordDeadLetters(await open());
    for (let r = 1; r <= 3; r++) await Promise.all([dead.park(parked(A, r)), dead.park(parked(B, r))]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const underway = new Promise<void>((r) => (started = r));
    const drainA = dead.drain(async () => (started(), await held, true), { account: A });
    await underway;
    const seenB: string[] = [];
    expect(await dead.drain(async (p) => (seenB.push(accountOf(p)!), true), { account: B })).toEqual({ retried: 3, remaining: 0 });
    expect(seenB).toEqual([B, B, B]);
    release();
    expect(await drainA).toEqual({ retried: 3, remaining: 0 });
  });

  it("keeps one record per delivery parked again, for as long as the dead-letter queue kept it", async () => {
    const records = await open();
    const dead = new RecordDeadLetters(records);
    await dead.park(parked(A, 1));
    await dead.park({ ...parked(A, 1), reason: "UNHANDLED", parkedAt: T0 + 1 });
    expect(await records.list("parked")).toMatchObject([{ reason: "UNHANDLED", parkedAt: T0 + 1 }]);
    // Parked longer ago than the retention: gone.
    await dead.park({ ...parked(A, 2), parkedAt: NOW - PARKED_RETENTION_MS });
    expect(await dead.drain(async () => false, { account: A })).toEqual({ retried: 0, remaining: 1 });
  });

  it("holds a parked delivery until it is sent again or its retention ends", async () => {
    const records = await open();
    const dead = new RecordDeadLetters(records);
    const p = parked(A, 1);
    expect(await dead.holds(p.delivery)).toBe(false);
    await dead.park(p);
    expect(await dead.holds(p.delivery)).toBe(true);
    expect(await dead.holds(parked(B, 1).delivery)).toBe(false);
    await dead.park({ ...parked(A, 2), parkedAt: NOW - PARKED_RETENTION_MS });
    expect(await dead.holds(parked(A, 2).delivery)).toBe(false);
    await dead.drain(async () => true, { account: A });
    expect(await dead.holds(p.delivery)).toBe(false);
  });

  it("stops at the first page whose retry throws, keeping that page's other outcomes, and reads no page once its time is up", async () => {
    const records = await open();
    const dead = new RecordDeadLetters(records);
    await Promise.all(Array.from({ length: 2 * PARKED_PAGE }, (_, i) => dead.park(parked(A, i + 1))));
    const seen: number[] = [];
    await expect(dead.drain(async (p) => (seen.push(revisionOf(p)), revisionOf(p) === 3 ? Promise.reject(new Error("store down")) : true), { account: A })).rejects.toThrow("store down");
    expect(seen).toHaveLength(PARKED_PAGE);
    expect(await records.list("parked")).toHaveLength(PARKED_PAGE + 1);
    // Out of time after the first page: nothing more is read.
    const budget = new AbortController();
    let calls = 0;
    expect(await dead.drain(async () => (calls++, budget.abort(), false), { account: A, signal: budget.signal })).toEqual({ retried: 0, remaining: PARKED_PAGE });
    expect(calls).toBe(PARKED_PAGE);
  });

  it("goes on with the other accounts in the operator's drain past each one whose retry throws, skips the rest of that one unread, and names every account stopped", async () => {
    const store = await open();
    let pages = 0;
    const records: RecordStore = Object.assign(Object.create(store) as RecordStore, { listPage: (...args: Parameters<RecordStore["listPage"]>) => (pages++, store.listPage(...args)) });
    const dead = new RecordDeadLetters(records);
    // In key order: A's (four pages of them; its third throws), B's, then C's (its second throws).
    await Promise.all(Array.from({ length: 4 * PARKED_PAGE }, (_, i) => dead.park(parked(A, i + 1))));
    await Promise.all(Array.from({ length: 3 }, (_, i) => dead.park(parked(B, i + 1))));
    await Promise.all(Array.from({ length: 3 }, (_, i) => dead.park(parked(C, i + 1))));
    const seen: string[] = [];
    const retry = async (p: ParkedDelivery) => {
      seen.push(accountOf(p)!);
      if ((accountOf(p) === A && revisionOf(p) === 3) || (accountOf(p) === C && revisionOf(p) === 2)) throw new Error(`${accountOf(p)}'s delivery cannot be read`);
      return true;
    };
    const stopped = await dead.drain(retry).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stopped).toBeInstanceOf(ReplayIncomplete);
    expect(stopped).toMatchObject({ stopped: [{ account: A, failure: { message: `${A}'s delivery cannot be read` } }, { account: C, failure: { message: `${C}'s delivery cannot be read` } }], counts: { retried: PARKED_PAGE - 1 + 3 + 2, remaining: 2 } });
    // A's first page was tried (its other outcomes stand); the rest of A's were skipped without being read: two listings in all.
    expect(seen.filter((a) => a === A)).toHaveLength(PARKED_PAGE);
    expect(pages).toBe(2);
    expect(await store.list("parked", `${B}/`)).toEqual([]);
    expect((await store.list<ParkedDelivery>("parked", `${A}/`)).length).toBe(3 * PARKED_PAGE + 1);
    expect((await store.list<ParkedDelivery>("parked", `${C}/`)).map(revisionOf)).toEqual([2]);
    // An account's own drain still stops at its first failure, with that failure.
    await expect(dead.drain(retry, { account: C })).rejects.toThrow(`${C}'s delivery cannot be read`);
  });
});

describe("parked records the store cannot read", () => {
  it("passes over a page of records none of which can be read (the listing goes on), and a tenant's replay whose retry rejects with undefined rejects with it", async () => {
    const file = join(await tempDir(), "records.db");
    const store = SqliteRecordStore.open(file, { now: () => NOW });
    const dead = new RecordDeadLetters(store);
    await Promise.all(Array.from({ length: PARKED_PAGE + 5 }, (_, i) => dead.park(parked(A, i + 1))));
    await Promise.all(Array.from({ length: 3 }, (_, i) => dead.park(parked(B, i + 1))));
    // Every one of A's records torn, as a person with the sqlite3 shell could leave them.
    const { DatabaseSync } = loadSqlite();
    const db = new DatabaseSync(file);
    db.prepare(`UPDATE records SET body = '{"torn' WHERE tbl = 'parked' AND id LIKE ?`).run(`${A}/%`);
    db.close();
    expect(await dead.drain(async () => true)).toEqual({ retried: 3, remaining: 0 });
    expect(await dead.drain(async () => true, { account: A })).toEqual({ retried: 0, remaining: 0 });
    await dead.park(parked(B, 9));
    await expect(dead.drain(async () => Promise.reject(undefined), { account: B })).rejects.toBeUndefined();
  });
});

describe("parked deliveries whose delete fails", () => {
  it("counts one sent but not deleted as still parked, and the next drain finds it (sent already) and deletes it", async () => {
    const store = SqliteRecordStore.open(join(await tempDir(), "records.db"), { now: () => NOW });
    let refuse = true;
    const records: RecordStore = Object.assign(Object.create(store) as RecordStore, {
      delete: (table: Parameters<RecordStore["delete"]>[0], id: string) => (refuse ? Promise.reject(new Error("throttled")) : store.delete(table, id)),
    });
    const dead = new RecordDeadLetters(records);
    await dead.park(parked(A, 1));
    // Another tenant's, whose delete would fail as well: A's drain neither touches nor names it.
    await dead.park(parked(B, 1));
    const kept: string[] = [];
    expect(await dead.drain(async () => true, { account: A, onKept: (p, why) => kept.push(`${p.delivery.deliveryId}: ${why}`) })).toEqual({ retried: 0, remaining: 1 });
    // Counted as parked, and said why.
    expect(kept).toEqual([`${parked(A, 1).delivery.deliveryId}: sent, but its parked record could not be removed (throttled): the next replay finds it sent and removes it`]);
    refuse = false;
    expect(await dead.drain(async () => true, { account: A })).toEqual({ retried: 1, remaining: 0 });
    expect((await store.list<ParkedDelivery>("parked")).map(accountOf)).toEqual([B]);
  });
});
