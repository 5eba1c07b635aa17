/**
 * A wide outage's figures, on the product's own path: a PT1H metric set of N series in local
 * mode, warm (its history past the engine's warm-up), then every series jumps at once and
 * stays out for three hours before coming back. Each interval of the outage runs detectDue
 * in a fresh process that loads the committed model, as each scheduled run does, and says
 * what it took: time, CPU, peak RSS, anomalies, the size of the model's head (which carries
 * the open group) and how many series the stored group counts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectDue, listMetricSets, OPERATOR } from "../shared/app/index.ts";
import { groupKey } from "../shared/app/detect.ts";
import { metricSetRoot } from "../shared/detect/results.ts";
import { headUri, readModel } from "../shared/detect/shard-model.ts";
import { toAnomalyGroup } from "../shared/incidents/contribution.ts";
import type { AnomalyGroupRecord } from "../shared/model/anomaly.ts";
import { L4M_QUOTAS } from "../shared/model/quotas.ts";
import { localServices } from "../shared/runtime/local.ts";
import type { WorkerShardRunner } from "../shared/runtime/shard-workers.ts";
import { marketsOnFiles, T0 } from "./shards.ts";

const HOUR = 3_600_000;
/**
 * Hours of history learned at activation: a week. PT1H's warm-up is 48 intervals, but after
 * 56 or 96 hours of history the outage's first hour found no series anomalous, after 120
 * three in five: a week finds them all.
 */
const HISTORY = 168;
/** Live hours detected before the outage, still normal. */
const LIVE = 2;
/** The outage's first hour. */
const H = HISTORY + LIVE;
/** Hours of the outage: every series at OUTAGE × its normal value. */
const OUTAGE_HOURS = 3;
const OUTAGE = 5;
/** Hours measured: the outage's, then the first one back to normal. */
const MEASURED = OUTAGE_HOURS + 1;
/** Hours of files: the history, the live hours, the outage and two normal hours after it. */
const HOURS = H + OUTAGE_HOURS + 2;

interface Measured {
  readonly ms: number;
  readonly cpuMs: number;
  readonly maxRss: number;
  readonly outcomes: string[];
  readonly series: number;
  readonly shards: number;
  readonly scored: number;
  readonly anomalies: number;
  readonly headBytes: number;
  readonly groupSeries: number | null;
  /** The stored group record: its JSON's bytes, and the revenue series it keeps by id. */
  readonly groupBytes: number;
  readonly groupKept: number;
}

const normal = (m: number, p: number, h: number) => 100 + ((m * 7 + p * 3 + h) % 17);
const valueAt = (m: number, p: number, h: number) => (h >= H && h < H + OUTAGE_HOURS ? OUTAGE : 1) * normal(m, p, h);

/** The child's side: `setup` writes the files, learns the history and detects the normal live hours; `measure` runs hour `hour` and says what it took. */
export async function outageChild(step: string, dir: string, series: number, hour: number): Promise<void> {
  // L4M's quota of 50,000 series a PT1H metric set raised past the sizes measured, as an operator may: an interval over it would not be scored.
  const quotas = { ...L4M_QUOTAS, seriesPerMetricSet: { ...L4M_QUOTAS.seriesPerMetricSet, PT1H: 2_000_000 } };
  const rt = localServices(join(dir, "vigil"), { clock: () => T0 + (step === "setup" ? H : hour + 1) * HOUR, quotas });
  if (step === "setup") {
    await marketsOnFiles(rt, dir, series, HOURS, valueAt);
    // The history (hours before HISTORY) is learned at the first run; each live hour after it is detected at its own.
    const outcomes: string[] = [];
    for (let h = HISTORY; h < H; h++) {
      const runs = await detectDue(rt, T0 + (h + 1) * HOUR);
      outcomes.push(...runs.map((r) => (r.outcome.kind === "processed" ? r.outcome.execution.Status : r.outcome.kind)));
    }
    writeFileSync(join(dir, "setup.json"), JSON.stringify({ outcomes }));
  } else {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const runs = await detectDue(rt, T0 + (hour + 1) * HOUR);
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const [metricSet] = await listMetricSets(rt, OPERATOR);
    const root = metricSetRoot(rt.resultsRoot, { MetricSetArn: metricSet!.MetricSetArn });
    const model = await readModel(rt.blobs, root);
    const head = await rt.blobs.get(headUri(root));
    const executions = runs.flatMap((r) => (r.outcome.kind === "processed" ? [r.outcome.execution] : []));
    const groupId = executions.find((e) => e.anomalyGroupId)?.anomalyGroupId ?? model?.head.openGroup?.AnomalyGroupId;
    const group = groupId ? await rt.records.get<AnomalyGroupRecord>("groups", groupKey(metricSet!, groupId)) : undefined;
    const revenue = group ? toAnomalyGroup(group).MetricLevelImpactList.find((i) => i.MetricName === "revenue") : undefined;
    writeFileSync(
      join(dir, `measured-${hour}.json`),
      JSON.stringify({
        ms,
        cpuMs: (used.user + used.system) / 1000,
        maxRss: process.resourceUsage().maxRSS * 1024,
        outcomes: runs.map((r) => (r.outcome.kind === "processed" ? r.outcome.execution.Status : r.outcome.kind)),
        series: model?.shards.reduce((n, s) => n + s.series, 0) ?? 0,
        shards: model?.shards.length ?? 0,
        scored: executions.reduce((n, e) => n + e.seriesScored, 0),
        anomalies: executions.reduce((n, e) => n + e.anomalies, 0),
        headBytes: head?.length ?? 0,
        groupSeries: revenue?.NumTimeSeries ?? null,
        groupBytes: group ? Buffer.byteLength(JSON.stringify(group)) : 0,
        groupKept: group ? Object.keys(group.impacts["revenue"]?.series ?? {}).length : 0,
      } satisfies Measured),
    );
    await (rt.shards as WorkerShardRunner).close();
  }
}

export function outageFigures(report: (name: string, value: string, target?: string) => void, sizes: readonly number[]): void {
  const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const child = (step: string, dir: string, series: number, hour = 0) => {
    const r = spawnSync(process.execPath, [process.argv[1]!], { encoding: "utf8", env: { ...process.env, VIGIL_BENCH_OUTAGE_CHILD: JSON.stringify({ step, dir, series, hour }) }, maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`the ${step} of ${series} series failed: ${r.stderr}`);
  };
  for (const series of sizes) {
    const dir = mkdtempSync(join(tmpdir(), "vigil-bench-outage-"));
    try {
      const setupStart = performance.now();
      child("setup", dir, series);
      const setup = JSON.parse(readFileSync(join(dir, "setup.json"), "utf8")) as { outcomes: string[] };
      if (setup.outcomes.some((o) => o !== "COMPLETED")) throw new Error(`the normal live hours of ${series} series ended ${setup.outcomes.join()}`);
      const label = `outage, ${fmt(series)} series PT1H, local mode`;
      report(`${label}: setup, ${HOURS} hourly files written, ${HISTORY} hours learned, ${LIVE} detected (s)`, fmt((performance.now() - setupStart) / 1000, 1));
      for (let i = 0; i < MEASURED; i++) {
        child("measure", dir, series, H + i);
        const m = JSON.parse(readFileSync(join(dir, `measured-${H + i}.json`), "utf8")) as Measured;
        // Only a run that scored every series counts (not one refused by a quota, or with no rows).
        if (m.outcomes.join() !== "COMPLETED") throw new Error(`hour H+${i} of ${series} series ended ${m.outcomes.join()}`);
        // The outage is wide only if its first hour finds most series out.
        if (i === 0 && m.anomalies < 0.9 * m.scored) throw new Error(`the outage's first hour of ${series} series found ${m.anomalies} of ${m.scored} series anomalous`);
        if (i === 0) report(`${label}: shards of the model`, fmt(m.shards));
        const at = `${label}, hour H+${i} (${i < OUTAGE_HOURS ? `every series ×${OUTAGE}` : "back to normal"})`;
        report(`${at}: wall / CPU (s)`, `${fmt(m.ms / 1000, 2)} / ${fmt(m.cpuMs / 1000, 2)}`);
        report(`${at}: peak RSS of the process (MB)`, fmt(m.maxRss / 1e6));
        report(`${at}: anomalies / series scored`, `${fmt(m.anomalies)} / ${fmt(m.scored)}`);
        report(`${at}: model head (KB)`, fmt(m.headBytes / 1024, 1));
        report(`${at}: revenue series in the group (NumTimeSeries)`, m.groupSeries === null ? "no group" : fmt(m.groupSeries));
        if (m.groupSeries !== null) report(`${at}: stored group record (KB; revenue series it keeps)`, `${fmt(m.groupBytes / 1024, 1)}; ${fmt(m.groupKept)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
