import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HistorySpill, learnSpilled, partitionFolder } from "../shared/detect/shard-history.ts";
import type { ShardMetricSet } from "../shared/detect/shard-job.ts";
import { SeriesBank } from "../shared/engine/bank.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../shared/model/ids.ts";
import { LocalBlobStore } from "../shared/store/local-blobs.ts";
import { decodeSeriesPoints, readSeriesFile } from "../shared/detect/series-points-read.ts";
import { encodeSeriesPoints, keyHash, type KeptPoint } from "../shared/detect/series-points.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2021, 0, 4);
const SERIES = 100;
const metricSet: ShardMetricSet = {
  MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/bench/events" as MetricSetArn,
  AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:bench" as AnomalyDetectorArn,
  MetricSetFrequency: "PT1H",
  DimensionList: ["shop"],
  MetricList: [
    { MetricName: "orders", AggregationFunction: "SUM" },
    { MetricName: "revenue", AggregationFunction: "SUM" },
  ],
};

/** In a child process: a week of `rows` event rows (many a series and hour) spilled, then learned by one shard job; prints its time and the RSS it added. */
export async function historyBlockChild(rows: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-history-"));
  try {
    const blobs = new LocalBlobStore();
    const before = T0 + 168 * HOUR;
    // A hash key, as detection draws one for each new model.
    const spill = new HistorySpill(blobs, join(dir, "spill"), 2, "PT1H", before, [0x9e3779b9, 0x7f4a7c15]);
    for (let i = 0; i < rows; i++) {
      spill.add(T0 + (i % 168) * HOUR, [`s${i % SERIES}`], [1, (i % 97) + 0.5]);
      if (spill.full) await spill.flush();
    }
    const spilled = await spill.finish(3);
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const start = performance.now();
    await learnSpilled(blobs, new SeriesBank(HOUR), metricSet, [...spilled.partitions.keys()].map((p) => partitionFolder(join(dir, "spill"), p)), before, new Set());
    const ms = performance.now() - start;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(JSON.stringify({ ms, addedMb: (peak - base) / 1e6 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A history whose rows are events (an order a row, summed): a shard job learns each block
 * (168 intervals) of its spill, and what it holds is the block's sums, not its rows.
 */
export function historyBlockFigures(report: (name: string, value: string, target?: string) => void, rows = 10_000_000): void {
  const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const r = spawnSync(process.execPath, [process.argv[1]!], { encoding: "utf8", env: { ...process.env, VIGIL_BENCH_HISTORY_CHILD: String(rows) }, maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`the history block child failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split("\n").pop()!) as { ms: number; addedMb: number };
  report(`history: one spilled week of ${fmt(rows)} event rows (${SERIES} series × 2 measures) learned by one shard job: RSS it added (MB); time (s)`, `${fmt(m.addedMb)}; ${fmt(m.ms / 1000, 2)}`);
}

/** Reads of a series' kept history at a time: 16, as readKeptPoints makes them. */
const READS_AT_ONCE = 16;

/**
 * In a child process: `asked` series of `intervals` series.bin files read back, either as
 * the API reads them (series-points-read.ts: ranges for a few series, one pass for many)
 * or whole, as it read them before; prints its time, the RSS it added and the bytes read.
 */
export async function keptReadChild(dir: string, series: number, intervals: number, asked: number, how: "pieces" | "whole"): Promise<void> {
  const blobs = new LocalBlobStore();
  const keys = Array.from({ length: asked }, (_, i) => keyHash(`views\u001es${(i * 7919) % series}`));
  let bytes = 0;
  const counted = {
    range: async (uri: string, offset: number, length: number) => {
      const got = await blobs.getRange(uri, offset, length);
      bytes += got?.bytes.byteLength ?? 0;
      return got;
    },
    stream: async (uri: string) => {
      const stream = await blobs.read(uri);
      return (async function* () {
        for await (const piece of stream ?? []) {
          bytes += piece.byteLength;
          yield piece as Uint8Array;
        }
      })();
    },
  };
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  const start = performance.now();
  let next = 0;
  let found = 0;
  const worker = async () => {
    while (next < intervals) {
      const uri = join(dir, `i${next++}`, "series.bin");
      // Awaited before it is added: `found += await …` would add to the value read before the wait.
      let points: Map<number, unknown>;
      if (how === "pieces") points = (await readSeriesFile({ range: (o, l) => counted.range(uri, o, l), stream: () => counted.stream(uri) }, keys))!.points;
      else {
        const whole = (await blobs.get(uri))!;
        bytes += whole.byteLength;
        points = decodeSeriesPoints(whole, keys);
      }
      found += points.size;
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, intervals) }, worker));
  const ms = performance.now() - start;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (found !== asked * intervals) throw new Error(`found ${found} points of ${asked * intervals}`);
  console.log(JSON.stringify({ ms, addedMb: (peak - base) / 1e6, bytes }));
}

/**
 * What reading a series' history costs on a metric set of a million series (series.bin of
 * 30 MB an interval): GetTimeSeriesHistory's one series over a day, eight series (the most
 * read by ranges) and a group chart's page of 50 (one pass a file), each read as the API does
 * and whole (as before), in fresh processes.
 */
export function keptReadFigures(report: (name: string, value: string, target?: string) => void, series = 1_000_000, intervals = 24): void {
  const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-kept-"));
  try {
    const points = Array.from({ length: series }, (_, i): KeptPoint => ({ key: keyHash(`views\u001es${i}`), actual: i, expected: i, lower: i - 1, upper: i + 1, kind: "BELOW_FLOOR", score: NaN }));
    const file = encodeSeriesPoints(points);
    for (let h = 0; h < intervals; h++) {
      mkdirSync(join(dir, `i${h}`));
      writeFileSync(join(dir, `i${h}`, "series.bin"), file);
    }
    for (const asked of [1, 8, 50]) {
      const row = (how: "pieces" | "whole") => {
        const r = spawnSync(process.execPath, [process.argv[1]!], { encoding: "utf8", env: { ...process.env, VIGIL_BENCH_KEPT_READ_CHILD: JSON.stringify({ dir, series, intervals, asked, how }) }, maxBuffer: 1 << 20 });
        if (r.status !== 0) throw new Error(`the kept-history read child failed: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split("\n").pop()!) as { ms: number; addedMb: number; bytes: number };
      };
      const [now, whole] = [row("pieces"), row("whole")];
      const show = (m: typeof now) => `${fmt(m.ms)} ms, +${fmt(m.addedMb)} MB, ${fmt(m.bytes / 1e6, 2)} MB read`;
      report(`kept history: ${asked} series over ${intervals} intervals of ${fmt(series)} series (${fmt(file.byteLength / 1e6)} MB each), local disk: read in pieces / whole (before)`, `${show(now)} / ${show(whole)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
