import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HISTORY_REACH_BLOCKS, HISTORY_REACH_MS, HistorySpill } from "../../../shared/detect/shard-history.ts";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import { spillHistory } from "../../../shared/detect/read-files.ts";
import { FILE_READ_COST } from "../../../shared/ingest/readers.ts";
import { CSV_FILES, csvOf, HOUR, liveFolder, readableMetricSet, shopPoints, T0, tempDir } from "../../builders.ts";

const spillBefore = async (before: number) => new HistorySpill(new LocalBlobStore(), join(await tempDir(), "spill"), 1, "PT1H", before);

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
    const spill = new HistorySpill(new LocalBlobStore(), join(await tempDir(), "spill"), 3, "PT1H", T0 + 10 * HOUR);
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
    const spill = new HistorySpill(blobs, dir, 1, "PT1M", before);
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
    const minutes = new HistorySpill(blobs, join(dir, "w"), 1, "PT1M", before);
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
    const spill = new HistorySpill(blobs, join(dir, "spill"), 2, "PT1H", T0 + hours * HOUR);
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
