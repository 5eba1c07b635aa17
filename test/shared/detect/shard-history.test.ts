import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SeriesBank } from "../../../shared/engine/bank.ts";
import { seriesKeyOf } from "../../../shared/ingest/series-key.ts";
import { scoreInterval } from "../../../shared/detect/score-interval.ts";
import { encodeSnapshot } from "../../../shared/detect/snapshot.ts";
import { HistorySpill, learnSpilled, partitionFolder, SpillGone, spillPartition } from "../../../shared/detect/shard-history.ts";
import { BLOCK_INTERVALS, HISTORY_REACH_BLOCKS, HISTORY_REACH_MS } from "../../../shared/model/history-reach.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../../../shared/model/ids.ts";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import { spillHistory } from "../../../shared/detect/read-files.ts";
import { FILE_READ_COST } from "../../../shared/ingest/readers.ts";
import { CSV_FILES, csvOf, HOUR, liveFolder, readableMetricSet, shopPoints, T0, tempDir } from "../../builders.ts";

/** A model's hash key, as detection draws one at random. */
const KEY = [0x9e3779b9, 0x7f4a7c15] as const;
const spillBefore = async (before: number) => new HistorySpill(new LocalBlobStore(), join(await tempDir(), "spill"), 1, "PT1H", before, KEY);

describe("a history's spill", () => {
  it("learns the year before the first interval detected, and holds nothing of rows older than that, however many distinct times they bring", async () => {
    const before = T0 + 400 * 24 * HOUR;
    const spill = await spillBefore(before);
    // Ten thousand rows, each at an hour of its own, all more than a year back.
    for (let i = 0; i < 10_000; i++) spill.add(before - HISTORY_REACH_MS - (i + 1) * HOUR, ["old"], [i]);
    spill.add(before - HISTORY_REACH_MS, ["a"], [1]);
    spill.add(before - HOUR, ["a"], [2]);
    spill.add(before, ["a"], [3]);
    const spilled = await spill.finish(5);
    expect(spilled.intervals).toBe(2);
    expect(spilled.latest).toEqual([before - HISTORY_REACH_MS, before - HOUR]);
    expect(spill.series).toBe(1);
  });

  it("counts its time series as dimension values times measures, each once", async () => {
    const spill = new HistorySpill(new LocalBlobStore(), join(await tempDir(), "spill"), 3, "PT1H", T0 + 10 * HOUR, KEY);
    for (let h = 0; h < 5; h++) for (const m of ["de", "fr"]) spill.add(T0 + h * HOUR, [m], [1, 2, 3]);
    expect(spill.series).toBe(6);
  });
});

describe("a history's spill at a short interval", () => {
  it("writes at most a bounded number of blocks a flush, however its rows spread over the year before: a row a file would cost a disk block and a file each", async () => {
    const dir = join(await tempDir(), "spill");
    const blobs = new LocalBlobStore();
    const minute = 60_000;
    const before = T0 + 400 * 24 * HOUR;
    const spill = new HistorySpill(blobs, dir, 1, "PT1M", before, KEY);
    // One row in each block of 168 minutes across the year before the first interval detected.
    for (let t = before - minute; t >= before - HISTORY_REACH_MS; t -= 168 * minute) spill.add(t, ["a"], [1]);
    await spill.flush();
    const files = (await blobs.list(`${dir}/`)).filter((f) => f.endsWith(".bin"));
    expect(files.length).toBeLessThanOrEqual(HISTORY_REACH_BLOCKS + 1);
    expect(files.length).toBeGreaterThanOrEqual(HISTORY_REACH_BLOCKS);
    // A week back is learned at PT1M, a whole weekly cycle; PT1H still reaches a year.
    const week = await spillBefore(before);
    week.add(before - 7 * 24 * HOUR, ["a"], [1]);
    expect((await week.finish(1)).intervals).toBe(1);
    const minutes = new HistorySpill(blobs, join(dir, "w"), 1, "PT1M", before, KEY);
    minutes.add(before - 7 * 24 * HOUR, ["a"], [1]);
    minutes.add(before - 30 * 24 * HOUR, ["a"], [1]);
    expect((await minutes.finish(5)).intervals).toBe(1);
  });
});

describe("a history read from the live files' folder (no HistoricalDataPathList)", () => {
  const hours = 24;
  const series = [{ platform: "web", marketplace: "de", base: 400 }];
  async function liveFolderOf(historical: boolean) {
    const dir = await tempDir();
    const blobs = new LocalBlobStore();
    for (let h = 0; h < hours; h++) await blobs.put(join(dir, "live", liveFolder(T0 + h * HOUR), "part.csv"), csvOf(shopPoints(T0 + h * HOUR, 1, series)));
    const live = join(dir, "live/{{yyyyMMdd}}/{{HHmm}}");
    const metricSet = { ...readableMetricSet({ MetricSource: { S3SourceConfig: { TemplatedPathList: [live], ...(historical ? { HistoricalDataPathList: [join(dir, "live")] } : {}), ...CSV_FILES } } }), MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet:shop/orders" as MetricSet["MetricSetArn"], MetricSetName: "orders" };
    const spill = new HistorySpill(blobs, join(dir, "spill"), 2, "PT1H", T0 + hours * HOUR, KEY);
    const file = (await blobs.get(join(dir, "live", liveFolder(T0), "part.csv")))!.length;
    // Room for six files of the twenty-four.
    const limits = { bytes: 6 * (FILE_READ_COST + file) + 8, series: 100, keyChars: 1 << 20 };
    return { blobs, metricSet, spill, limits, prefixes: [join(dir, "live/")] };
  }

  it("learns its latest intervals within BytesPerHistory, rather than refuse a folder that grows with every interval", async () => {
    const { blobs, metricSet, spill, limits, prefixes } = await liveFolderOf(false);
    const spilled = await spillHistory(blobs, metricSet, prefixes, spill, limits, 3);
    expect(spilled.intervals).toBe(6);
    expect(spilled.through).toBe(T0 + (hours - 1) * HOUR);
    expect(spilled.latest).toEqual([T0 + 21 * HOUR, T0 + 22 * HOUR, T0 + 23 * HOUR]);
  });

  it("while a history its own paths name is still refused past it, as its files' order says nothing of their time", async () => {
    const { blobs, metricSet, spill, limits, prefixes } = await liveFolderOf(true);
    await expect(spillHistory(blobs, metricSet, prefixes, spill, limits, 3)).rejects.toThrow(/BytesPerHistory/);
  });
});

describe("a history learned from its spill", () => {
  const metricSet = { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/d/m" as MetricSetArn, AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:d" as AnomalyDetectorArn, MetricSetFrequency: "PT1H" as const, DimensionList: ["shop"], MetricList: [{ MetricName: "a", AggregationFunction: "SUM" as const }, { MetricName: "b", AggregationFunction: "SUM" as const }] };
  const row = fc.record({ hour: fc.integer({ min: 0, max: 2 * BLOCK_INTERVALS + 20 }), shop: fc.integer({ min: 0, max: 11 }), a: fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: undefined }), b: fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: undefined }), flush: fc.boolean() });

  it("is refused once the spill is gone (its run merged or parked), rather than learning nothing: a job given again would write that over its committed shard", async () => {
    const blobs = new LocalBlobStore();
    const folder = join(await tempDir(), "spill");
    const before = T0 + 10 * HOUR;
    const spill = new HistorySpill(blobs, folder, 2, "PT1H", before, KEY);
    for (let h = 0; h < 5; h++) spill.add(T0 + h * HOUR, ["s1"], [h, 2 * h]);
    const partitions = [...(await spill.finish(3)).partitions.keys()].map((p) => partitionFolder(folder, p));
    expect((await learnSpilled(blobs, new SeriesBank(HOUR), metricSet, partitions, before, new Set())).intervals).toBe(5);
    await blobs.deleteFolder(`${folder}/`);
    const bank = new SeriesBank(HOUR);
    await expect(learnSpilled(blobs, bank, metricSet, partitions, before, new Set())).rejects.toThrow(SpillGone);
    expect(bank.size).toBe(0);
  });

  it("learns what summing its rows interval by interval, in the order they came, learns: the same bank to the last bit, however its files were cut", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 300 }), async (rows) => {
        const blobs = new LocalBlobStore();
        const folder = join(await tempDir(), "spill");
        const before = T0 + (2 * BLOCK_INTERVALS + 10) * HOUR;
        const spill = new HistorySpill(blobs, folder, 2, "PT1H", before, KEY);
        for (const r of rows) {
          spill.add(T0 + r.hour * HOUR, [`s${r.shop}`], [r.a, r.b]);
          if (r.flush) await spill.flush();
        }
        const spilled = await spill.finish(3);
        const learned = new SeriesBank(HOUR);
        const partitions = [...spilled.partitions.keys()].sort((x, y) => x - y);
        await learnSpilled(blobs, learned, metricSet, partitions.map((p) => partitionFolder(folder, p)), before, new Set());

        // The reference: each interval's cells summed row by row in the order the rows came, a partition's series before the next's.
        const reference = new SeriesBank(HOUR);
        const hours = [...new Set(rows.map((r) => r.hour))].sort((x, y) => x - y).filter((h) => T0 + h * HOUR < before);
        for (const h of hours) {
          const cells = new Map<string, { dimensions: string[]; sums: number[]; counts: number[] }>();
          const at = rows.filter((r) => r.hour === h);
          const partitionOf = (shop: number) => spillPartition(seriesKeyOf([`s${shop}`]), KEY);
          const firsts = [...new Set(at.map((r) => r.shop))].sort((x, y) => partitionOf(x) - partitionOf(y));
          for (const shop of firsts) cells.set(seriesKeyOf([`s${shop}`]), { dimensions: [`s${shop}`], sums: [0, 0], counts: [0, 0] });
          for (const r of at) {
            const cell = cells.get(seriesKeyOf([`s${r.shop}`]))!;
            [r.a, r.b].forEach((v, k) => {
              if (v === undefined) return;
              cell.sums[k]! += v;
              cell.counts[k]!++;
            });
          }
          scoreInterval(reference, metricSet, cells, T0 + h * HOUR, { learnOnly: true });
        }
        expect(encodeSnapshot({ bank: learned, through: 0, openGroup: undefined, feedbackThrough: 0 })).toEqual(encodeSnapshot({ bank: reference, through: 0, openGroup: undefined, feedbackThrough: 0 }));
      }),
      { numRuns: 40 },
    );
  });
});
