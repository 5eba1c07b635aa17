/**
 * Sharded detection's figures, on the product's own path: a metric set of N series in local
 * mode (its shards on worker threads), one PT1H interval run by detectDue in a fresh process
 * that loads the committed model, as each scheduled run does: read → shards → score →
 * merge → results and events. Each size runs in processes of its own, so the peak RSS the
 * kernel counts is that run's alone (the history is learned by the process before).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { activateDetector, createDetector, createMetricSet, detectDue, listMetricSets, OPERATOR } from "../shared/app/index.ts";
import { metricSetRoot } from "../shared/detect/results.ts";
import { readModel } from "../shared/detect/shard-model.ts";
import { L4M_QUOTAS } from "../shared/model/quotas.ts";
import { localServices } from "../shared/runtime/local.ts";
import type { WorkerShardRunner } from "../shared/runtime/shard-workers.ts";

const HOUR = 3_600_000;
export const T0 = Date.UTC(2021, 0, 4);
/** Hours of files: the first two are the history, the third the first live hour, the fourth the one measured. */
const HOURS = 4;
const PLATFORMS = 50;

/**
 * A PT1H metric set of `series` series (markets × PLATFORMS platforms, measure revenue SUM)
 * on hourly CSV files under `dir` for `hours` hours from T0, each row `value(market,
 * platform, hour)`; its detector activated (the history learned at its first run).
 */
export async function marketsOnFiles(rt: ReturnType<typeof localServices>, dir: string, series: number, hours: number, value: (m: number, p: number, h: number) => number): Promise<void> {
  const markets = Math.ceil(series / PLATFORMS);
  for (let h = 0; h < hours; h++) {
    const t = T0 + h * HOUR;
    const stamp = new Date(t).toISOString().slice(0, 19).replace("T", " ");
    const lines = ["timestamp,market,platform,revenue"];
    for (let m = 0; m < markets; m++) for (let p = 0; p < PLATFORMS; p++) lines.push(`${stamp},m${m},p${p},${value(m, p, h).toFixed(2)}`);
    const folder = join(dir, "files", new Date(t).toISOString().slice(0, 10).replaceAll("-", ""), new Date(t).toISOString().slice(11, 16).replace(":", ""));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "rows.csv"), lines.join("\n") + "\n");
  }
  const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "markets", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  await createMetricSet(rt, OPERATOR, {
    AnomalyDetectorArn: detector.AnomalyDetectorArn,
    MetricSetName: "orders",
    MetricList: [{ MetricName: "revenue", AggregationFunction: "SUM" }],
    DimensionList: ["market", "platform"],
    TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
    MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "files", "{{yyyyMMdd}}", "{{HHmm}}")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } },
  });
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
}

/** The child's side: `setup` writes the files and learns the history; `measure` runs the next interval and says what it took. */
export async function shardChild(step: string, dir: string, series: number): Promise<void> {
  // L4M's quota of 50,000 series a PT1H metric set raised past the sizes measured, as an operator may: an interval over it would not be scored.
  const quotas = { ...L4M_QUOTAS, seriesPerMetricSet: { ...L4M_QUOTAS.seriesPerMetricSet, PT1H: 2_000_000 } };
  const rt = localServices(join(dir, "vigil"), { clock: () => (step === "setup" ? T0 + 3 * HOUR : T0 + 4 * HOUR), quotas });
  if (step === "setup") {
    await marketsOnFiles(rt, dir, series, HOURS, (m, p, h) => 100 + ((m * 7 + p * 3 + h) % 17));
    await detectDue(rt, T0 + 3 * HOUR);
  } else {
    const start = performance.now();
    const runs = await detectDue(rt, T0 + 4 * HOUR);
    const ms = performance.now() - start;
    const [metricSet] = await listMetricSets(rt, OPERATOR);
    const model = await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, { MetricSetArn: metricSet!.MetricSetArn }));
    const peak = (rt.shards as WorkerShardRunner).peakMemory;
    writeFileSync(
      join(dir, "measured.json"),
      JSON.stringify({ ms, outcomes: runs.map((r) => (r.outcome.kind === "processed" ? r.outcome.execution.Status : r.outcome.kind)), shards: model?.shards.length ?? 0, series: model?.shards.reduce((n, s) => n + s.series, 0) ?? 0, maxRss: process.resourceUsage().maxRSS * 1024, workerPeak: peak.heap + peak.external }),
    );
    await (rt.shards as WorkerShardRunner).close();
  }
}

export function shardFigures(report: (name: string, value: string, target?: string) => void, sizes: readonly number[]): void {
  const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const child = (step: string, dir: string, series: number) => {
    const r = spawnSync(process.execPath, [process.argv[1]!], { encoding: "utf8", env: { ...process.env, VIGIL_BENCH_SHARD_CHILD: JSON.stringify({ step, dir, series }) }, maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`the ${step} of ${series} series failed: ${r.stderr}`);
  };
  for (const series of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "vigil-bench-shards-"));
    try {
      child("setup", dir, series);
      child("measure", dir, series);
      const m = JSON.parse(readFileSync(join(dir, "measured.json"), "utf8")) as { ms: number; outcomes: string[]; shards: number; series: number; maxRss: number; workerPeak: number };
      // Only a run that scored every series counts (not one refused by a quota, or with no rows).
      if (m.outcomes.join() !== "COMPLETED") throw new Error(`the measured interval of ${series} series ended ${m.outcomes.join()}`);
      // One shard runs in the detecting process itself; several on worker threads.
      const label = `detect, one PT1H interval of ${fmt(m.series)} series, local mode (${m.shards === 1 ? "1 shard, in the process" : `${m.shards} shards on worker threads`})`;
      report(`${label}: wall (s)`, fmt(m.ms / 1000, 2), series >= 1_000_000 ? "≤ 15" : "");
      report(`${label}: peak RSS of the process (MB)`, fmt(m.maxRss / 1e6));
      if (m.shards > 1) report(`${label}: most heap + external one shard job held in its worker (MB)`, fmt(m.workerPeak / 1e6), "≤ 1,000");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
