import type { RecordStore, RecordWrite } from "./records.ts";

interface Waiting {
  readonly write: RecordWrite;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A record store whose puts asked for in one turn of the event loop are made together, as
 * one putMany (DynamoDB: a BatchWriteItem request per 25, not a PutItem each): concurrent
 * deliveries of a batch record what they sent in few requests. Every other call goes
 * straight to the store. Each caller's promise settles once its own write is made; a batch
 * refused as a whole (a record the store will not take fails its whole request) is made
 * again one put at a time, so each caller hears of its own write alone. A value is read
 * when its batch is written, at the end of the turn: callers hand over values they no longer
 * change (records are plain, read-only data here).
 */
export function withBatchedPuts(store: RecordStore): RecordStore {
  let waiting: Waiting[] = [];

  const flush = async () => {
    const batch = waiting;
    waiting = [];
    try {
      await store.putMany(batch.map((w) => w.write));
      for (const w of batch) w.resolve();
    } catch {
      await Promise.all(
        batch.map(({ write: { table, id, value, expiresAt }, resolve, reject }) => store.put(table, id, value, expiresAt === undefined ? {} : { expiresAt }).then(resolve, reject)),
      );
    }
  };

  return {
    get: (table, id) => store.get(table, id),
    create: (table, id, value) => store.create(table, id, value),
    update: (table, id, change) => store.update(table, id, change),
    put: (table, id, value, options = {}) =>
      new Promise<void>((resolve, reject) => {
        if (waiting.length === 0) setImmediate(() => void flush());
        waiting.push({ write: { table, id, value, ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }) }, resolve, reject });
      }),
    putMany: (writes) => store.putMany(writes),
    list: (table, prefix) => store.list(table, prefix),
    listPage: (table, query) => store.listPage(table, query),
    listRanked: (table, query) => store.listRanked(table, query),
    countRanked: (table, partition, min) => store.countRanked(table, partition, min),
    delete: (table, id) => store.delete(table, id),
    deletePrefix: (table, prefix) => store.deletePrefix(table, prefix),
    claim: (id, until, now) => store.claim(id, until, now),
    release: (id, until) => store.release(id, until),
  };
}
