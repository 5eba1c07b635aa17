import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import { RoutingBlobStore } from "../../../shared/store/routing-blobs.ts";
import { tempDir } from "../../builders.ts";

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

  it("writes an object given in parts as their bytes one after another, and reads it back whole", async () => {
    const dir = await tempDir();
    const blobs = new LocalBlobStore();
    // Past the 512 KiB a single write of writeFile takes.
    const parts = [Buffer.from("head"), new Uint8Array(0), Buffer.alloc(3 << 20, 7), Buffer.from("tail")];
    await blobs.put(join(dir, "model/s0.bin"), parts);
    const back = Buffer.from((await blobs.get(join(dir, "model/s0.bin")))!);
    expect(back.length).toBe(4 + (3 << 20) + 4);
    expect(back.equals(Buffer.concat(parts))).toBe(true);
    await blobs.put(join(dir, "model/s0.bin"), Buffer.from("smaller"));
    expect(new TextDecoder().decode(await blobs.get(join(dir, "model/s0.bin")))).toBe("smaller");
    expect(await blobs.list(join(dir, "model/"))).toEqual([join(dir, "model/s0.bin")]);
  });

  it("deletes a folder and nothing beside it", async () => {
    const dir = await tempDir();
    const blobs = new RoutingBlobStore({ local: new LocalBlobStore() });
    await blobs.put(join(dir, "results/shop/orders/20210101/0100/anomalies.jsonl"), "{}");
    await blobs.put(join(dir, "results/shop/orders/model.bin"), "m");
    await blobs.put(join(dir, "results/shop/orders-2/model.bin"), "kept");
    expect(await blobs.deleteFolder(join(dir, "results/shop/orders/"))).toBe(2);
    expect(await blobs.list(join(dir, "results"))).toEqual([join(dir, "results/shop/orders-2/model.bin")]);
    expect(await blobs.deleteFolder(join(dir, "results/shop/orders/"))).toBe(0);
    await expect(blobs.deleteFolder(join(dir, "results/shop/orders"))).rejects.toThrow(/not a folder/);
  });

  it("reads a range of a file with the file's size, fewer bytes at its end, none past it", async () => {
    const dir = await tempDir();
    const blobs = new RoutingBlobStore({ local: new LocalBlobStore() });
    const file = join(dir, "results/series.bin");
    await blobs.put(file, Buffer.from("0123456789"));
    const text = async (offset: number, length: number) => {
      const got = (await blobs.getRange(file, offset, length))!;
      return [Buffer.from(got.bytes).toString(), got.size];
    };
    expect(await text(0, 4)).toEqual(["0123", 10]);
    expect(await text(7, 10)).toEqual(["789", 10]);
    expect(await text(12, 4)).toEqual(["", 10]);
    // Replaced by a file of the same size: another version.
    const before = (await blobs.getRange(file, 0, 4))!.version;
    await blobs.put(file, Buffer.from("9876543210"));
    expect((await blobs.getRange(file, 0, 4))!.version).not.toBe(before);
    expect(await blobs.getRange(join(dir, "nope"), 0, 4)).toBeUndefined();
    await expect(blobs.getRange(file, -1, 4)).rejects.toThrow("not a byte range");
    await expect(blobs.getRange(file, 0, 0)).rejects.toThrow("not a byte range");
  });

  it("refuses s3:// addresses when no S3 client is configured", async () => {
    await expect(new RoutingBlobStore({ local: new LocalBlobStore() }).get("s3://bucket/key")).rejects.toThrow(/no S3 client/);
  });
});

describe("LocalBlobStore: two stores of one process writing one object at once", () => {
  // Two worker threads share the pid: their stores once picked the same temporary file and wrote into each other's.
  it("leave the object whole, one writer's or the other's", async () => {
    const path = join(await tempDir(), "m", "head.bin");
    const a = new Uint8Array(4 * 1024 * 1024).fill(0x61);
    const b = new Uint8Array(1024 * 1024).fill(0x62);
    const results = await Promise.allSettled([new LocalBlobStore().put(path, [a]), new LocalBlobStore().put(path, [b])]);
    const got = await new LocalBlobStore().get(path);
    const whole = got !== undefined && (Buffer.from(got).equals(Buffer.from(a)) || Buffer.from(got).equals(Buffer.from(b)));
    expect({ whole, puts: results.map((r) => r.status) }).toEqual({ whole: true, puts: ["fulfilled", "fulfilled"] });
  });
});
