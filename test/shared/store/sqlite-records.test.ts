import { spawnSync } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { RecordExists } from "../../../shared/store/records.ts";
import { loadSqlite, SqliteRecordStore } from "../../../shared/store/sqlite-records.ts";
import { anomalyGroupRecord, tempDir } from "../../builders.ts";
import { recordStoreContract } from "./record-store-contract.ts";

/** A connection of its own to the store's file, as a person with the sqlite3 shell would have. */
function rawDatabase(file: string) {
  const { DatabaseSync } = loadSqlite();
  return new DatabaseSync(file);
}

recordStoreContract("SqliteRecordStore", async (options) => {
  const file = join(await tempDir(), "state", "records.db");
  return {
    store: SqliteRecordStore.open(file, options),
    damage: async (table, id, part = "record") => {
      const db = rawDatabase(file);
      db.prepare(`UPDATE records SET ${part === "record" ? "body" : "summary"} = '{"torn' WHERE tbl = ? AND id = ?`).run(table, id);
      db.close();
    },
  };
});

describe("SqliteRecordStore", () => {
  it("answers a ranked list or count again only while it holds: after its own write, another process's commit or an expiry it reads afresh", async () => {
    const file = join(await tempDir(), "records.db");
    let now = 1_000;
    const store = SqliteRecordStore.open(file, { now: () => now });
    const counted = async () => (await store.countRanked("groups", "shop/orders/", 50)).total;
    const listed = async () => (await store.listRanked("groups", { partition: "shop/orders/", min: 50, limit: 10 })).items.map((i) => i.id);
    await store.put("groups", "shop/orders/a", anomalyGroupRecord({ score: 80 }));
    expect([await counted(), await listed()]).toEqual([1, ["shop/orders/a"]]);
    expect(await store.listRanked("groups", { partition: "shop/orders/", min: 50, limit: 10 })).toBe(await store.listRanked("groups", { partition: "shop/orders/", min: 50, limit: 10 }));

    await store.put("groups", "shop/orders/b", anomalyGroupRecord({ score: 90 }), { expiresAt: 2_000 });
    expect([await counted(), await listed()]).toEqual([2, ["shop/orders/b", "shop/orders/a"]]);

    const other = rawDatabase(file);
    other.prepare("DELETE FROM records WHERE tbl = 'groups' AND id = 'shop/orders/a'").run();
    other.close();
    expect([await counted(), await listed()]).toEqual([1, ["shop/orders/b"]]);

    now = 2_000;
    expect([await counted(), await listed()]).toEqual([0, []]);
  });

  it("makes the writes of one turn together, and a write refused among them is refused alone", async () => {
    const file = join(await tempDir(), "records.db");
    const store = SqliteRecordStore.open(file);
    await store.put("detectors", "a", { n: 0 });
    const refused = new Error("refused");
    const results = await Promise.allSettled([
      store.put("detectors", "b", { n: 1 }),
      store.update("detectors", "a", () => {
        throw refused;
      }),
      store.claim("lease", 10, 0),
      store.create("detectors", "b", { n: 2 }),
      store.update<{ n: number }>("detectors", "a", (d) => ({ n: d.n + 1 })),
      store.putMany([{ table: "detectors", id: "c", value: { n: 3 }, ifAbsent: true }]),
    ]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : r.reason instanceof RecordExists ? "exists" : r.reason))).toEqual([undefined, refused, true, "exists", { n: 1 }, [true]]);
    const db = rawDatabase(file);
    expect(db.prepare("SELECT id, body FROM records WHERE tbl = 'detectors' ORDER BY id").all()).toEqual([
      { id: "a", body: '{"n":1}' },
      { id: "b", body: '{"n":1}' },
      { id: "c", body: '{"n":3}' },
    ]);
    db.close();
    // A write keeps the value as it was when asked for, though it is made at the end of the turn.
    const value = { n: 1 };
    const written = Promise.all([store.put("detectors", "d", value), store.putMany([{ table: "detectors", id: "e", value }]), store.create("detectors", "f", value)]);
    value.n = 2;
    await written;
    expect([await store.get("detectors", "d"), await store.get("detectors", "e"), await store.get("detectors", "f")]).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
  });

  it("is one database per file: stores opened again, as per request, see each other's writes at once", async () => {
    const file = join(await tempDir(), "records.db");
    await SqliteRecordStore.open(file).put("detectors", "shop", { n: 1 });
    expect(await SqliteRecordStore.open(file).get("detectors", "shop")).toEqual({ n: 1 });
    const db = rawDatabase(file);
    expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.prepare("SELECT tbl, id FROM records").all()).toEqual([{ tbl: "detectors", id: "shop" }]);
    db.close();
  });

  it("opens afresh a database whose directory was removed and made again", async () => {
    const dir = join(await tempDir(), "state");
    const file = join(dir, "records.db");
    await SqliteRecordStore.open(file).put("detectors", "old", { n: 1 });
    await rm(dir, { recursive: true });
    await mkdir(dir);
    const store = SqliteRecordStore.open(file);
    expect(await store.get("detectors", "old")).toBeUndefined();
    await store.put("detectors", "new", { n: 2 });
    expect(await SqliteRecordStore.open(file).list("detectors")).toEqual([{ n: 2 }]);
  });

  it("refuses, naming it, a database made by another version of its schema, and leaves it as it was", async () => {
    const file = join(await tempDir(), "records.db");
    const db = rawDatabase(file);
    db.exec("CREATE TABLE records (tbl TEXT, id TEXT, body TEXT); PRAGMA user_version = 7");
    db.close();
    await expect(SqliteRecordStore.open(file).get("detectors", "x")).rejects.toThrow(`${file} is not a records database of this version of Vigil (schema 7, expected 1)`);
    const again = rawDatabase(file);
    expect(again.prepare("PRAGMA user_version").get()).toEqual({ user_version: 7 });
    again.close();
  });

  it("silences node:sqlite's experimental warning when it loads, and no other warning", async () => {
    const script = join(await tempDir(), "load.mjs");
    await build({ entryPoints: [join(import.meta.dirname, "load-sqlite.ts")], outfile: script, bundle: true, platform: "node", format: "esm", logLevel: "warning" });
    const run = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/ExperimentalWarning: Something else is experimental/);
    expect(run.stderr).not.toMatch(/SQLite/);
  });

  it("keeps the database and its write-ahead log readable by its owner alone", async () => {
    const dir = join(await tempDir(), "state");
    const file = join(dir, "records.db");
    await SqliteRecordStore.open(file).put("alerts", "a", { Secret: "s" });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect((await stat(f)).mode & 0o077, f).toBe(0);
  });

  it("answers every read and deletion from the primary key or the ranked index, never a scan of the table", async () => {
    const file = join(await tempDir(), "records.db");
    const store = SqliteRecordStore.open(file);
    for (let i = 0; i < 3; i++) await store.put("groups", `shop/orders/g${i}`, anomalyGroupRecord({ score: i }));
    await store.get("groups", "shop/orders/g1");
    await store.list("groups", "shop/");
    await store.list("groups");
    const page = await store.listPage("groups", { prefix: "shop/", limit: 1 });
    await store.listPage("groups", { prefix: "shop/", limit: 1, cursor: page.cursor! });
    const ranked = await store.listRanked("groups", { partition: "shop/orders/", min: 0, limit: 1 });
    await store.listRanked("groups", { partition: "shop/orders/", min: 0, limit: 1, cursor: ranked.cursor! });
    await store.countRanked("groups", "shop/orders/", 1);
    await store.deletePrefix("groups", "shop/");
    await store.delete("groups", "x");
    const db = rawDatabase(file);
    // Every statement that reads the records (the change mark ranked answers are kept by reads none).
    const reads = SqliteRecordStore.preparedOn(file).filter((sql) => /^(SELECT|DELETE|WITH)/.test(sql) && /\brecords\b/.test(sql));
    expect(reads.length).toBeGreaterThanOrEqual(10);
    for (const sql of reads) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail);
      const steps = plan.filter((d) => /\brecords\b/.test(d));
      expect(steps.length, sql).toBeGreaterThan(0);
      for (const step of steps) expect(step, sql).toMatch(/^SEARCH records USING (COVERING )?INDEX (sqlite_autoindex_records_1|records_ranked|records_labelled) \(tbl=\? AND (id|part)/);
      expect(plan.filter((d) => /TEMP B-TREE/.test(d)), sql).toEqual([]);
    }
    db.close();
  });
});
