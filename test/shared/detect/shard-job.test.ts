import { describe, expect, it } from "vitest";
import { Aggregator, cellsAt, type SeriesCell } from "../../../shared/ingest/aggregate.ts";
import { rowSpecOf } from "../../../shared/ingest/rows.ts";
import { join } from "node:path";
import { SeriesBank } from "../../../shared/engine/bank.ts";
import { decodeShardCells, encodeShardCells, runShard } from "../../../shared/detect/shard-job.ts";
import { readShard, writeShard } from "../../../shared/detect/shard-model.ts";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { anomalyOf, tempDir } from "../../builders.ts";
import { advanceGroup, noMembers } from "../../../shared/incidents/grouping.ts";
import { planInterval } from "../../../shared/detect/shard-plan.ts";
import type { ShardedModel } from "../../../shared/detect/shard-model.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../../../shared/model/ids.ts";

const walked = (bytes: Uint8Array) => {
  const out: [string, SeriesCell][] = [];
  const input = decodeShardCells(bytes);
  input.cells.forEach((cell, key) => out.push([key, { dimensions: [...cell.dimensions], sums: [...cell.sums], counts: [...cell.counts] }]));
  return { out, input };
};

describe("a shard job's cells", () => {
  it("are read back in order with their dimensions, sums, counts and places", () => {
    const bytes = encodeShardCells({ intervalStart: 7, measures: 2, cells: { ordinals: [4, 9], keys: ["de\u001fios", "fr\u001fweb"], sums: [1, 2, 3, 4], counts: [1, 1, 2, 0] }, verdicts: [], chart: ["k"], groupStart: undefined });
    const { out, input } = walked(bytes);
    expect(out).toEqual([
      ["de\u001fios", { dimensions: ["de", "ios"], sums: [1, 2], counts: [1, 1] }],
      ["fr\u001fweb", { dimensions: ["fr", "web"], sums: [3, 4], counts: [2, 0] }],
    ]);
    expect([input.ordinalOf("fr\u001fweb"), input.ordinalOf("de\u001fios"), input.ordinalOf("xx")]).toEqual([9, 4, undefined]);
    expect([input.intervalStart, input.chart]).toEqual([7, ["k"]]);
  });

  it("are read as the version before wrote them (dimension lists), for jobs still queued while it is replaced", () => {
    const header = new TextEncoder().encode(JSON.stringify({ intervalStart: 7, measures: 1, dimensions: [["de", "ios"]], verdicts: [], chart: [] }));
    const at = 8 + header.length + ((8 - (header.length % 8)) % 8);
    const bytes = new Uint8Array(at + 16 + 4);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, header.length, true);
    view.setUint32(4, 1, true);
    bytes.set(header, 8);
    new Float64Array(bytes.buffer, at, 2).set([5, 1]);
    new Uint32Array(bytes.buffer, at + 16, 1).set([3]);
    const { out, input } = walked(bytes);
    expect(out).toEqual([["de\u001fios", { dimensions: ["de", "ios"], sums: [5], counts: [1] }]]);
    expect(input.ordinalOf("de\u001fios")).toBe(3);
  });

  it("keep dimension values that hold the series key's separator, as the unsharded path reads them", () => {
    const metricSet = { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/d/m" as MetricSetArn, AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:d" as AnomalyDetectorArn, MetricSetFrequency: "PT1H" as const, TimestampColumn: { ColumnName: "ts" }, DimensionList: ["country", "device"], MetricList: [{ MetricName: "v", AggregationFunction: "SUM" as const }] };
    const aggregator = new Aggregator(rowSpecOf(metricSet, (v) => Date.parse(String(v))), { intervalMs: 3_600_000 });
    const t = Date.parse("2024-01-01T00:00:00Z");
    aggregator.add({ file: "f", line: 2, fields: { ts: "2024-01-01T00:00:00Z", country: "de\u001fx", device: "ios", v: "1" } });
    aggregator.add({ file: "f", line: 3, fields: { ts: "2024-01-01T00:00:00Z", country: "fr", device: "web", v: "2" } });
    // Joined, these two would be the first one's key: they are series of their own.
    aggregator.add({ file: "f", line: 4, fields: { ts: "2024-01-01T00:00:00Z", country: "de", device: "x\u001fios", v: "4" } });
    aggregator.add({ file: "f", line: 5, fields: { ts: "2024-01-01T00:00:00Z", country: "de\u001fx\u001fios", device: "ios", v: "8" } });
    const { intervals } = aggregator.finish(1);
    const unsharded: string[][] = [];
    cellsAt(intervals, t)!.forEach((cell) => unsharded.push([...cell.dimensions]));
    const model: ShardedModel = { head: { through: NaN, openGroup: undefined, feedbackThrough: 0 }, shards: [{ id: "", version: "", series: 0 }] } as unknown as ShardedModel;
    const [job] = planInterval(model, metricSet, cellsAt(intervals, t), [], 1000);
    const { out } = walked(encodeShardCells({ intervalStart: t, measures: 1, cells: job!.cells, verdicts: [], chart: [], groupStart: undefined }));
    expect(out.map(([, cell]) => cell.dimensions)).toEqual(unsharded);
    expect(unsharded).toEqual([["de\u001fx", "ios"], ["fr", "web"], ["de", "x\u001fios"], ["de\u001fx\u001fios", "ios"]]);
    expect(out.map(([, cell]) => cell.sums[0])).toEqual([1, 2, 4, 8]);
  });
});

describe("a model of the format before, carrying a group of every series", () => {
  it("has each shard holding members written once, without cells, its bank keeping them as members", async () => {
    const HOUR = 3_600_000;
    const t = Date.parse("2024-01-01T00:00:00Z");
    const metricSet = { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/d/m" as MetricSetArn, AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:d" as AnomalyDetectorArn, MetricSetFrequency: "PT1H" as const, DimensionList: ["host"], MetricList: [{ MetricName: "v", AggregationFunction: "SUM" as const }] };
    const blobs = new LocalBlobStore();
    const root = join(await tempDir(), "results");
    // The saved shard: two series, neither with an anomaly time (a bank read from format 6).
    const bank = new SeriesBank(HOUR);
    for (const host of ["a", "b"]) bank.slot(`v\u001e${host}`);
    await writeShard(blobs, root, "v0", "", bank, { bank, through: t - HOUR, openGroup: undefined, feedbackThrough: 0 });
    const ctx = { detectorArn: metricSet.AnomalyDetectorArn, metricSetArn: metricSet.MetricSetArn, dimensionNames: ["host"], intervalMs: HOUR };
    const group = advanceGroup(ctx, undefined, [anomalyOf({ metricSetArn: metricSet.MetricSetArn, measure: "v", dimensions: [["host", "a"]], t: t - HOUR, actual: 1, expected: 100, band: 10 })], noMembers(), t - HOUR).open as AnomalyGroupRecord;
    const model = { head: { through: t - HOUR, openGroup: group, feedbackThrough: 0 }, shards: [{ id: "", version: "v0", series: 2 }] } as unknown as ShardedModel;
    // No cells this interval: read only for its chart, unless marking.
    expect(planInterval(model, metricSet, undefined, [], 1000).map((p) => p.readOnly)).toEqual([true]);
    const [job] = planInterval(model, metricSet, undefined, [], 1000, true);
    expect(job!.readOnly).toBe(false);
    const cells = encodeShardCells({ intervalStart: t, measures: 1, cells: job!.cells, verdicts: [], chart: job!.chart, groupStart: group.startMs });
    const result = await runShard(blobs, { metricSet, root, target: "", source: job!.source, version: "v1", capacity: 1000, input: { kind: "interval", cells: { bytes: cells } } });
    expect(result.written).toHaveLength(1);
    const written = await readShard(blobs, root, "v1", "", HOUR);
    expect([written.lastAnomalyK[written.find("v\u001ea")!], written.lastAnomalyK[written.find("v\u001eb")!]]).toEqual([(t - HOUR) / HOUR, NaN]);
  });
});
