import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HistorySpill, learnSpilled, partitionFolder } from "../shared/detect/shard-history.ts";
import type { ShardMetricSet } from "../shared/detect/shard-job.ts";
import { SeriesBank } from "../shared/engine/bank.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../shared/model/ids.ts";
import { LocalBlobStore } from "../shared/store/local-blobs.ts";

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
    const spill = new HistorySpill(blobs, join(dir, "spill"), 2, "PT1H", before);
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
