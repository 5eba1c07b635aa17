import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { activateDetector, detectDue, OPERATOR } from "../../../shared/app/index.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import { readModel } from "../../../shared/detect/shard-model.ts";
import { MAX_SHARD_DEPTH, seriesHash } from "../../../shared/detect/shards.ts";
import { seriesKeyOf } from "../../../shared/ingest/series-key.ts";
import { csvOf, HOUR, liveFolder, localAt, shopOnFiles, shopPoints, T0, tempDir } from "../../builders.ts";

const P = 0x01000193;
const next = (h: number, c: number) => Math.imul(h ^ c, P) >>> 0;
const fnv = (s: string) => [...s].reduce((h, c) => next(h, c.charCodeAt(0)), 0x811c9dc5);
const usable = (c: number) => (c >= 0x100 && c < 0xd800) || (c >= 0xe000 && c <= 0xfffd);

/** Two blocks of two UTF-16 units that take FNV-1a's state `h` to the same state, and that state. */
function collidingPair(h: number): [string, string, number] {
  const byUpper = new Map<number, number[]>();
  for (let c1 = 0x100; c1 <= 0xfffd; c1++) {
    if (!usable(c1)) continue;
    const a = next(h, c1);
    for (const d1 of byUpper.get(a >>> 16) ?? []) {
      const x = (a ^ next(h, d1)) & 0xffff;
      for (let c2 = 0x100; c2 <= 0xfffd; c2++) {
        if (usable(c2) && usable(c2 ^ x)) return [String.fromCharCode(c1, c2), String.fromCharCode(d1, c2 ^ x), next(a, c2)];
      }
    }
    byUpper.set(a >>> 16, [...(byUpper.get(a >>> 16) ?? []), c1]);
  }
  throw new Error("no colliding pair");
}

/** 2^blocks values that, after `prefix`, all hash alike: a tenant can make as many as it likes, cheaply. */
function collidingValues(prefix: string, blocks: number): string[] {
  let h = fnv(prefix);
  let values = [""];
  for (let b = 0; b < blocks; b++) {
    const [s1, s2, after] = collidingPair(h);
    values = values.flatMap((v) => [v + s1, v + s2]);
    h = after;
  }
  return values;
}

describe("series whose hashes are made to collide", () => {
  it("stay in one shard past its capacity, and detection goes on every hour (it threw on every run, for good)", async () => {
    // Dimension values platform=web, marketplace=<v>: series keys "web<separator><v>" that all hash alike.
    const prefix = seriesKeyOf(["web", "x"]).slice(0, -1);
    const markets = collidingValues(prefix, 4);
    expect(new Set(markets.map((m) => seriesHash(seriesKeyOf(["web", m])))).size).toBe(1);
    const series = markets.map((marketplace, i) => ({ platform: "web", marketplace, base: 300 + i }));
    const dir = await tempDir();
    const live = T0 + 14 * 24 * HOUR;
    let now = live;
    const rt = localAt(dir, () => now, { shardCapacity: 4, shardWorkers: 0 });
    await rt.blobs.put(join(dir, "files", "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, series)));
    for (let h = 0; h < 3; h++) await rt.blobs.put(join(dir, "files", "live", liveFolder(live + h * HOUR), "p.csv"), csvOf(shopPoints(live + h * HOUR, 1, series)));
    const { detector, metricSet } = await shopOnFiles(rt, join(dir, "files"));
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    for (let h = 1; h <= 3; h++) {
      now = live + h * HOUR;
      expect((await detectDue(rt, now)).map((r) => r.outcome.kind)).toEqual(["processed"]);
    }
    const model = await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet));
    // 16 markets × 2 measures, all in the one shard at the deepest.
    expect(model!.shards.filter((s) => s.series > 4)).toEqual([expect.objectContaining({ series: 32 })]);
    expect(model!.shards.every((s) => s.id.length <= MAX_SHARD_DEPTH)).toBe(true);
  });
});
