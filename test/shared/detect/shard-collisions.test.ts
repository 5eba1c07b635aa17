import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { executionKey, loadModel, mergeRun } from "../../../shared/app/detect.ts";
import { activateDetector, createDetector, createMetricSet, detectDue, OPERATOR, type Scope, type Services } from "../../../shared/app/index.ts";
import type { ShardRunner } from "../../../shared/app/services.ts";
import { metricSetRoot, resultUri } from "../../../shared/detect/results.ts";
import { frame, unframe } from "../../../shared/detect/framed.ts";
import { encodeShardResult, runShard, type ShardMetricSet } from "../../../shared/detect/shard-job.ts";
import { commitModel, decodeHead, emptyModel, encodeHead, readModel, type ShardedModel } from "../../../shared/detect/shard-model.ts";
import { planInterval } from "../../../shared/detect/shard-plan.ts";
import { keyedHash, MAX_SHARD_DEPTH, seriesHash } from "../../../shared/detect/shards.ts";
import type { CellWalk } from "../../../shared/ingest/aggregate.ts";
import { FILE_READ_COST } from "../../../shared/ingest/readers.ts";
import { L4M_QUOTAS } from "../../../shared/model/quotas.ts";
import { seriesKeyOf } from "../../../shared/ingest/series-key.ts";
import { csvOf, HOUR, liveFolder, localAt, metricSetRequest, shopOnFiles, shopPoints, T0, tempDir } from "../../builders.ts";

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

/** Series of the shop's metric set (platform=web, marketplace=<v>) whose keys all hash alike under the unkeyed hash of the models before keys. */
function collidingSeries(blocks: number) {
  const prefix = seriesKeyOf(["web", "x"]).slice(0, -1);
  const markets = collidingValues(prefix, blocks);
  expect(new Set(markets.map((m) => seriesHash(seriesKeyOf(["web", m])))).size).toBe(1);
  return markets.map((marketplace, i) => ({ platform: "web", marketplace, base: 300 + i }));
}

/**
 * A shop of 16 colliding series on files (shards of 4 time series at most, in the process), with three live hours and, with
 * `history`, two weeks before; `before` runs once the metric set exists, before activation. Runs each live hour and calls `after` with the committed model.
 */
async function detectColliding(history: boolean, before: (rt: Services, root: string, live: number) => Promise<void>, after: (model: ShardedModel) => void): Promise<ShardedModel> {
  const series = collidingSeries(4);
  const dir = await tempDir();
  const live = T0 + 14 * 24 * HOUR;
  let now = live;
  const rt = localAt(dir, () => now, { shardCapacity: 4, shardWorkers: 0 });
  if (history) await rt.blobs.put(join(dir, "files", "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, series)));
  for (let h = 0; h < 3; h++) await rt.blobs.put(join(dir, "files", "live", liveFolder(live + h * HOUR), "p.csv"), csvOf(shopPoints(live + h * HOUR, 1, series)));
  const { detector, metricSet } = await shopOnFiles(rt, join(dir, "files"));
  const root = metricSetRoot(rt.resultsRoot, metricSet);
  await before(rt, root, live);
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
  for (let h = 1; h <= 3; h++) {
    now = live + h * HOUR;
    expect((await detectDue(rt, now)).map((r) => r.outcome.kind)).toEqual(["processed"]);
    after((await readModel(rt.blobs, root))!);
  }
  return (await readModel(rt.blobs, root))!;
}

/**
 * A shop of 16 colliding series whose model, made before keys, detection had got to the hour before `live`; its hour at `live` run, which crowds
 * one shard at the deepest. Its history: none, or (`template`) its live files alone, from two hours before. Files for five hours from `live`.
 */
async function crowdedShop(options: { history: false | "template" }) {
  const series = collidingSeries(4);
  const dir = await tempDir();
  const live = T0 + 14 * 24 * HOUR;
  let now = live + HOUR;
  const rt = localAt(dir, () => now, { shardCapacity: 4, shardWorkers: 0 });
  for (let h = -2; h < 6; h++) await rt.blobs.put(join(dir, "files", "live", liveFolder(live + h * HOUR), "p.csv"), csvOf(shopPoints(live + h * HOUR, 1, series)));
  const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const template = join(dir, "files", "live/{{yyyyMMdd}}/{{HHmm}}");
  const metricSet = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [template], ...(options.history ? {} : { HistoricalDataPathList: [join(dir, "files", "history")] }) } } }));
  const root = metricSetRoot(rt.resultsRoot, metricSet);
  const unkeyed = emptyModel(HOUR, undefined);
  await commitModel(rt.blobs, root, { ...unkeyed, head: { ...unkeyed.head, through: live - HOUR } });
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
  expect((await detectDue(rt, now)).map((r) => r.outcome.kind)).toEqual(["processed"]);
  expect((await readModel(rt.blobs, root))!.shards.some((s) => s.id.length === MAX_SHARD_DEPTH && s.series > 4)).toBe(true);
  return { rt, root, live, metricSet, at: (t: number) => (now = t) };
}

describe("series whose hashes are made to collide", () => {
  it("are parted by the model's hash key: no shard past its capacity, every hour, the key kept by each commit", async () => {
    const keys = new Set<string>();
    await detectColliding(true, async () => {}, (model) => {
      // 16 markets × 2 measures, each series once (a commit that lost the key would find them elsewhere and learn them twice), none in a shard past 4.
      expect(model.hashKey).toEqual([expect.any(Number), expect.any(Number)]);
      keys.add(JSON.stringify(model.hashKey));
      expect(model.shards.reduce((n, s) => n + s.series, 0)).toBe(32);
      expect(Math.max(...model.shards.map((s) => s.series))).toBeLessThanOrEqual(4);
    });
    expect(keys.size).toBe(1);
  });

  it.each([false, true])("crowd one shard past its capacity in a model made before hash keys, which is then learned again under a key (history: %s): detection goes on every hour", async (history) => {
    // A model saved before keys, detection having got to the hour before.
    const saved = async (rt: Services, root: string, live: number) => {
      const unkeyed = emptyModel(HOUR, undefined);
      await commitModel(rt.blobs, root, { ...unkeyed, head: { ...unkeyed.head, through: live - HOUR } });
    };
    const models: ShardedModel[] = [];
    await detectColliding(history, saved, (model) => models.push(model));
    // The first hour: 16 markets × 2 measures, all in the one shard at the deepest (a split cannot part them).
    expect(models[0]!.hashKey).toBeUndefined();
    expect(models[0]!.shards.filter((s) => s.series > 4)).toEqual([expect.objectContaining({ series: 32 })]);
    expect(models[0]!.shards.find((s) => s.series > 4)!.id).toHaveLength(MAX_SHARD_DEPTH);
    // The next: that model is learned again (from its history, or from nothing; where detection had got to kept), under a key that parts them.
    for (const model of models.slice(1)) {
      expect(model.hashKey).toEqual([expect.any(Number), expect.any(Number)]);
      expect(model.head.through).toBeGreaterThan(models[0]!.head.through);
      expect(model.shards.reduce((n, s) => n + s.series, 0)).toBe(32);
      expect(Math.max(...model.shards.map((s) => s.series))).toBeLessThanOrEqual(4);
    }
  });

  it("in a model made before keys, learned again with no history while its shards are handed over, leave detection going on: the new model is committed", async () => {
    const { rt, root, live, at } = await crowdedShop({ history: false });
    // A queue that runs each job at once and leaves the merge to be run, as the shard queue's merge message would.
    const merges: string[] = [];
    const shards: ShardRunner = {
      capacity: 4,
      handsOver: true,
      run: async (jobs, run) => {
        for (const job of jobs) await rt.blobs.put(resultUri(run.work, job.target), encodeShardResult(await runShard(rt.blobs, job)));
        merges.push(run.work);
        return undefined;
      },
    };
    const queued: Services = { ...rt, shards };
    for (let h = 2; h <= 4; h++) {
      const now = at(live + h * HOUR);
      await detectDue(queued, now);
      while (merges.length) await mergeRun(queued, merges.shift()!, now);
    }
    const model = (await readModel(rt.blobs, root))!;
    expect(model.hashKey).toEqual([expect.any(Number), expect.any(Number)]);
    expect(model.head.through).toBe(live + 3 * HOUR);
    expect(Math.max(...model.shards.map((s) => s.series))).toBeLessThanOrEqual(4);
  });

  it("in a model made before keys, learned again in a catch-up, leave every missed interval detected, not learned as history", async () => {
    const { rt, root, live, at, metricSet } = await crowdedShop({ history: "template" });
    const runs = await detectDue(rt, at(live + 5 * HOUR));
    expect(runs.map((r) => [(r.intervalStart - live) / HOUR, r.outcome.kind])).toEqual([1, 2, 3, 4].map((h) => [h, "processed"]));
    for (let h = 1; h <= 4; h++) expect(await rt.records.get("executions", executionKey(metricSet, live + h * HOUR))).toMatchObject({ Status: "COMPLETED" });
    expect((await readModel(rt.blobs, root))!.hashKey).toEqual([expect.any(Number), expect.any(Number)]);
  });

  it("in a model made before keys, learned again in a catch-up from its live folder, spend the history's budget on the intervals it learns, not on those it then detects", async () => {
    const { rt, live, metricSet, at } = await crowdedShop({ history: "template" });
    // Budget for three of its files (hours −2, −1 and 0, up to where detection had got to); the catch-up's hours 1–4 come first, latest first.
    const quotas = { ...L4M_QUOTAS, bytesPerHistory: { ...L4M_QUOTAS.bytesPerHistory, PT1H: 3 * (FILE_READ_COST + 2_000) } };
    const loaded = await loadModel({ ...rt, quotas }, metricSet, live + 5 * HOUR, at(live + 5 * HOUR));
    expect(loaded?.learned).toBe(3);
    expect(loaded?.model.head.through).toBe(live);
    expect(loaded?.model.shards.reduce((n, s) => n + s.series, 0)).toBe(32);
  });

  it("in a model made before keys, learned again by one of 50 invocations at once: each interval detected once, every series once, no shard past its capacity", async () => {
    const { rt, root, live, at, metricSet } = await crowdedShop({ history: "template" });
    const now = at(live + 3 * HOUR);
    const runs = (await Promise.all(Array.from({ length: 50 }, () => detectDue(rt, now)))).flat();
    expect(runs.filter((r) => r.outcome.kind === "processed").map((r) => (r.intervalStart - live) / HOUR).sort()).toEqual([1, 2]);
    for (const h of [1, 2]) expect(await rt.records.get("executions", executionKey(metricSet, live + h * HOUR))).toMatchObject({ Status: "COMPLETED" });
    const model = (await readModel(rt.blobs, root))!;
    expect(model.hashKey).toEqual([expect.any(Number), expect.any(Number)]);
    expect(model.head.through).toBe(live + 2 * HOUR);
    expect(model.shards.reduce((n, s) => n + s.series, 0)).toBe(32);
    expect(Math.max(...model.shards.map((s) => s.series))).toBeLessThanOrEqual(4);
  });

  it("in one tenant's model made before keys, learned again, leave another tenant's model, key and detection as they were", async () => {
    const { rt, root, live, at } = await crowdedShop({ history: "template" });
    // A second tenant, its shop of ordinary series on the same service.
    const TEAM_B: Scope = { tenant: "team-b", accountId: "222222222222" };
    const files = join(await tempDir(), "b");
    const ordinary = Array.from({ length: 6 }, (_, i) => ({ platform: "web", marketplace: `m${i}`, base: 200 + 10 * i }));
    for (let h = -2; h < 6; h++) await rt.blobs.put(join(files, liveFolder(live + h * HOUR), "p.csv"), csvOf(shopPoints(live + h * HOUR, 1, ordinary)));
    const detector = await createDetector(rt, TEAM_B, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const other = await createMetricSet(rt, TEAM_B, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(files, "{{yyyyMMdd}}/{{HHmm}}")] } } }));
    await activateDetector(rt, TEAM_B, detector.AnomalyDetectorArn);
    const otherRoot = metricSetRoot(rt.resultsRoot, other);
    await detectDue(rt, at(live + HOUR));
    const before = (await readModel(rt.blobs, otherRoot))!;
    expect(before.head.through).toBe(live);
    await detectDue(rt, at(live + 3 * HOUR));
    const after = (await readModel(rt.blobs, otherRoot))!;
    expect(after.hashKey).toEqual(before.hashKey);
    expect(after.head.through).toBe(live + 2 * HOUR);
    expect(after.shards.reduce((n, s) => n + s.series, 0)).toBe(12);
    for (const h of [1, 2]) expect(await rt.records.get("executions", executionKey(other, live + h * HOUR))).toMatchObject({ Status: "COMPLETED" });
    // Meanwhile the first tenant's model was learned again, under a key.
    expect((await readModel(rt.blobs, root))!).toMatchObject({ hashKey: [expect.any(Number), expect.any(Number)], head: { through: live + 2 * HOUR } });
  });

  it("are routed to one part by the plan of a model made before hash keys, to parts of their own by a keyed one", () => {
    const series = collidingSeries(4);
    const cells = new Map(series.map((s, i) => [seriesKeyOf([s.platform, s.marketplace]), { dimensions: [s.platform, s.marketplace], sums: [i, 1], counts: [1, 1] }]));
    const metricSet = { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/d/shop", AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:d", MetricList: [{ MetricName: "orders", AggregationFunction: "SUM" }, { MetricName: "revenue", AggregationFunction: "SUM" }], DimensionList: ["platform", "marketplace"], MetricSetFrequency: "PT1H" } as const;
    const walk = { forEach: (visit: (cell: { dimensions: string[]; sums: number[]; counts: number[] }, key: string) => void) => cells.forEach((c, k) => visit(c, k)) } as unknown as CellWalk;
    const unkeyed = decodeHead(encodeHead(emptyModel(HOUR, undefined)));
    expect(unkeyed.hashKey).toBeUndefined();
    const before = planInterval(unkeyed, metricSet as unknown as ShardMetricSet, walk, [], 4);
    expect(before.filter((p) => p.cells.keys.length > 0).map((p) => p.cells.keys.length)).toEqual([16]);
    const keyed = decodeHead(encodeHead(emptyModel(HOUR, [0x243f6a88, 0x85a308d3])));
    expect(keyed.hashKey).toEqual([0x243f6a88, 0x85a308d3]);
    const parts = planInterval(keyed, metricSet as unknown as ShardMetricSet, walk, [], 4).map((p) => p.cells.keys.length);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(16);
    expect(Math.max(...parts)).toBeLessThan(16);
  });
});

describe("a model's head", () => {
  it("refuses a head of the keyed format without its key, rather than find series in the wrong shards", () => {
    const { header, body } = unframe<{ format: number; hashKey?: unknown }>(encodeHead(emptyModel(HOUR, [1, 2])));
    expect(header).toMatchObject({ format: 2, hashKey: [1, 2] });
    const { hashKey: _, ...keyless } = header;
    expect(() => decodeHead(frame(keyless, body))).toThrow(/no hash key/);
  });
});

describe("the keyed hash", () => {
  it("is HalfSipHash-2-4 of the UTF-16LE bytes: the reference vectors (key 00…07, message 00, 01, …)", () => {
    // vectors_hsip32 of the reference implementation, at the even lengths UTF-16 code units make, as little-endian words.
    const expected: Record<number, number> = { 0: 0x5b9f35a9, 2: 0x03a662fa, 4: 0x89466e2a, 6: 0x23fc6358, 8: 0x8f84b8d0, 10: 0x3479b094, 12: 0x2f87f057 };
    for (const [bytes, hash] of Object.entries(expected)) {
      const units = Array.from({ length: Number(bytes) / 2 }, (_, j) => (2 * j) | ((2 * j + 1) << 8));
      expect(keyedHash(String.fromCharCode(...units), 0x03020100, 0x07060504)).toBe(hash);
    }
  });
});
