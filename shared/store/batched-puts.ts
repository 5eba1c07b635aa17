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
 * again one put at a time (a key's in the order asked), so each caller hears of its own write
 * alone. A value is read when its batch is written, at the end of the turn: callers hand over
 * values they no longer change (records are plain, read-only data here).
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
      // A key's puts one after the other, in the order asked, so the last one stays (as in a batch); keys at once.
      await Promise.all(
        [...byKey(batch).values()].map(async (puts) => {
          for (const { write: { table, id, value, expiresAt }, resolve, reject } of puts) await store.put(table, id, value, expiresAt === undefined ? {} : { expiresAt }).then(resolve, reject);
        }),
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

/** The waiting puts by record, each record's in the order asked. */
function byKey(batch: readonly Waiting[]): Map<string, Waiting[]> {
  const out = new Map<string, Waiting[]>();
  for (const w of batch) {
    const key = `${w.write.table}\0${w.write.id}`;
    const puts = out.get(key);
    if (puts) puts.push(w);
    else out.set(key, [w]);
  }
  return out;
}
