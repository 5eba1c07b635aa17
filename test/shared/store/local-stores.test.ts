import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import { LocalRecordStore } from "../../../shared/store/local-records.ts";
import { RecordExists } from "../../../shared/store/records.ts";
import { RoutingBlobStore } from "../../../shared/store/routing-blobs.ts";
import { tempDir } from "../../builders.ts";

describe("LocalRecordStore", () => {
  it("creates once: of racing creators exactly one wins", async () => {
    const store = new LocalRecordStore(await tempDir());
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.create("detectors", "shop", { writer: i })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected" && r.reason instanceof RecordExists)).toHaveLength(7);
    const winner = results.findIndex((r) => r.status === "fulfilled");
    expect(await store.get("detectors", "shop")).toEqual({ writer: winner });
  });

  it("leases: one holder at a time, taken over once it runs out", async () => {
    const store = new LocalRecordStore(await tempDir());
    expect(await store.claim("i1", 1000, 0)).toBe(true);
    expect(await store.claim("i1", 2000, 500)).toBe(false);
    expect(await store.claim("i1", 3000, 1001)).toBe(true);
    expect(await store.get("leases", "i1")).toEqual({ until: 3000 });
  });

  it("lists by id prefix, in order, and deletes", async () => {
    const store = new LocalRecordStore(await tempDir());
    await store.put("metricSets", "shop/b", { n: 2 });
    await store.put("metricSets", "shop/a", { n: 1 });
    await store.put("metricSets", "other/a", { n: 3 });
    expect(await store.list("metricSets", "shop/")).toEqual([{ n: 1 }, { n: 2 }]);
    await store.delete("metricSets", "shop/a");
    expect(await store.get("metricSets", "shop/a")).toBeUndefined();
  });
});

describe("LocalBlobStore", () => {
  it("puts, gets and lists a folder recursively, or a single file", async () => {
    const dir = await tempDir();
    const blobs = new RoutingBlobStore({ local: new LocalBlobStore() });
    await blobs.put(join(dir, "live/20210101/0100/b.csv"), "b");
    await blobs.put(join(dir, "live/20210101/0100/a.csv"), "a");
    await blobs.put(join(dir, "live/20210101/0200/c.csv"), "c");
    expect(await blobs.list(join(dir, "live/20210101/0100/"))).toEqual([join(dir, "live/20210101/0100/a.csv"), join(dir, "live/20210101/0100/b.csv")]);
    expect(await blobs.list(join(dir, "live"))).toHaveLength(3);
    expect(await blobs.list(join(dir, "live/20210101/0200/c.csv"))).toEqual([join(dir, "live/20210101/0200/c.csv")]);
    expect(await blobs.list(join(dir, "missing"))).toEqual([]);
    expect(new TextDecoder().decode(await blobs.get(join(dir, "live/20210101/0100/a.csv")))).toBe("a");
    expect(await blobs.get(join(dir, "nope"))).toBeUndefined();
  });

  it("refuses s3:// addresses when no S3 client is configured", async () => {
    await expect(new RoutingBlobStore({ local: new LocalBlobStore() }).get("s3://bucket/key")).rejects.toThrow(/no S3 client/);
  });
});
