/**
 * `npm run bench`: every performance and quality figure in one run, printed as a table.
 * Speed is measured here, never in tests. The NAB and ecommerce figures need the benchmark
 * folder beside the repository (../shared/bench, or VIGIL_BENCH_DIR).
 */
import { DateTime } from "luxon";
import { timestampFormatProblem } from "../shared/model/timestamp-format.ts";
import { MAX_PATTERN_CELL } from "../shared/ingest/timestamp.ts";
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { createGzip, gzipSync } from "node:zlib";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SeriesBank } from "../shared/engine/bank.ts";
import { newStepResult, step } from "../shared/engine/step.ts";
import { aggregateRows } from "../shared/ingest/aggregate.ts";
import { readRecords } from "../shared/ingest/readers.ts";
import { readInterval, type FileReader } from "../shared/detect/read-files.ts";
import { L4M_QUOTAS } from "../shared/model/quotas.ts";
import { rowSpecOf } from "../shared/ingest/rows.ts";
import { makeTimestampParser } from "../shared/ingest/timestamp.ts";
import { encodeSnapshot } from "../shared/detect/snapshot.ts";
import { scoreInterval } from "../shared/detect/score-interval.ts";
import { chartValue } from "../shared/detect/group-event.ts";
import { createServer } from "node:http";
import { build, type Plugin } from "esbuild";
import { alertMessage } from "../shared/alerts/message.ts";
import { emailMessage } from "../shared/channels/email/render.ts";
import { l4mAlertJson } from "../shared/channels/common/l4m-alert.ts";
import { slackMessage } from "../shared/channels/slack/render.ts";
import { longText, shortText } from "../shared/channels/common/text.ts";
import { webhookBody } from "../shared/channels/webhook/render.ts";
import type { AnomalyGroupEvent } from "../shared/model/anomaly-event.ts";
import type { AlertArn, AnomalyDetectorArn, AnomalyGroupId, MetricSetArn } from "../shared/model/ids.ts";
import { activateDetector, backtestFiles, createAlert, createDetector, createMetricSet, detectDue, OPERATOR, routeEvents } from "../shared/app/index.ts";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY } from "../cli/serve.ts";
import { localFiles, localServices } from "../shared/runtime/local.ts";
import { seriesHash } from "../shared/app/history.ts";
import { BYTES_PER_POINT, encodeSeriesPoints, keptPoints } from "../shared/detect/series-points.ts";
import { decodeSeriesPoints } from "../shared/detect/series-points-read.ts";
import { anomalyRecords, loadMetricSetFile } from "../cli/backtest.ts";
import { toJsonLines } from "../shared/detect/results.ts";
import type { Anomaly } from "../shared/model/anomaly.ts";
import { parse } from "yaml";
import { fuzzRequests, OPERATIONS, runFuzz, seedFuzzData, type FuzzFigures, type Tenant } from "../test/security/fuzz.ts";
import { startVigilServe } from "../test/security/wire.ts";
import type { AnomalyGroupRecord } from "../shared/model/anomaly.ts";
import type { Page, RecordStore } from "../shared/store/records.ts";
import { apiFigures } from "./api.ts";
import { benchGroup } from "./groups.ts";
import { median, serviceFigures, spoolFigures } from "./service.ts";
import { outageChild, outageFigures } from "./outage.ts";
import { shardChild, shardFigures } from "./shards.ts";
import { historyBlockChild, historyBlockFigures, keptReadChild, keptReadFigures } from "./history.ts";
import { quietFigures, spikyFigures } from "./quiet.ts";

const HOUR = 3_600_000;
const figures: [string, string, string][] = [];
const report = (name: string, value: string, target = "") => {
  figures.push([name, value, target]);
  console.error(`  ${name}: ${value}`);
};
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function timeIt<T>(fn: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const out = fn();
  return [out, Number(process.hrtime.bigint() - start) / 1e6];
}

/** Steady-state scoring speed: many series, many intervals, after warm-up. */
function engineSpeed(): void {
  const series = 10_000;
  const bank = new SeriesBank(HOUR, series);
  for (let i = 0; i < series; i++) bank.slot(`s${i}`);
  const out = newStepResult();
  const value = (i: number, k: number) => 100 + (i % 50) + 30 * Math.sin((2 * Math.PI * k) / 24) + ((k * 7 + i) % 11);
  for (let k = 0; k < 24 * 8; k++) for (let i = 0; i < series; i++) step(bank, i, k, value(i, k), out);
  const intervals = 200;
  const [, ms] = timeIt(() => {
    for (let k = 24 * 8; k < 24 * 8 + intervals; k++) for (let i = 0; i < series; i++) step(bank, i, k, value(i, k), out);
  });
  report("engine steady state with the event layer, points scored per second (one core)", fmt((series * intervals) / (ms / 1000)), "≥ 6,000,000");
  report("model state per series, PT1H (bytes)", fmt(bank.bytesPerSeries()), "≤ 4,096");
  report("model state per series, PT5M (bytes)", fmt(new SeriesBank(HOUR / 12).bytesPerSeries()), "≤ 4,096");
}

/** A metric set of 50,000 series (1,000 markets × 50 platforms, one measure), and its hourly file. */
const BIG = { markets: 1000, platforms: 50 };
const bigMetricSet = {
  MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/bench/big" as MetricSetArn,
  MetricList: [{ MetricName: "revenue", AggregationFunction: "SUM" as const }],
  DimensionList: ["market", "platform"],
  TimestampColumn: { ColumnName: "timestamp" },
};
function bigCsv(t: number): Uint8Array {
  const stamp = new Date(t).toISOString().slice(0, 19).replace("T", " ");
  const lines = ["timestamp,market,platform,revenue"];
  for (let m = 0; m < BIG.markets; m++) for (let p = 0; p < BIG.platforms; p++) lines.push(`${stamp},m${m},p${p},${100 + ((m * 7 + p * 3 + t / HOUR) % 17)}`);
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

/** One PT1H interval of a 50,000-series metric set: parse → aggregate → score → save state. */
function intervalOf50k(): void {
  const metricSet = bigMetricSet;
  const spec = rowSpecOf(metricSet, makeTimestampParser("yyyy-MM-dd HH:mm:ss"));
  const t0 = Date.UTC(2021, 0, 1);
  const csvFor = bigCsv;
  const bank = new SeriesBank(HOUR, BIG.markets * BIG.platforms);
  for (let h = 0; h < 72; h++) {
    const t = t0 + h * HOUR;
    const agg = aggregateRows(readRecords("f.csv", csvFor(t), undefined).rows, [], spec, { intervalMs: HOUR });
    scoreInterval(bank, metricSet, agg.intervals.get(t), t, { learnOnly: true });
  }
  const t = t0 + 72 * HOUR;
  const bytes = csvFor(t);
  const [, ms] = timeIt(() => {
    const read = readRecords("f.csv", bytes, undefined);
    const agg = aggregateRows(read.rows, read.malformed, spec, { intervalMs: HOUR, window: { from: t, to: t + HOUR } });
    scoreInterval(bank, metricSet, agg.intervals.get(t), t);
    encodeSnapshot({ bank, through: t, openGroup: undefined, feedbackThrough: 0 });
  });
  report("one PT1H interval of 50,000 series, parse → aggregate → score → save (ms)", fmt(ms), "< 2,000");
}

/**
 * One interval whose file is a GZIP that inflates far past BytesPerInterval (300 MiB of rows
 * from a few hundred KB): what reading it costs before the quota stops it.
 */
async function intervalOverBytes(): Promise<void> {
  const row = new TextEncoder().encode("2021-01-01 00:00:00,m1,p1,100\n".repeat(32 * 1024));
  const gzip = createGzip();
  const compressed: Buffer[] = [];
  gzip.on("data", (b: Buffer) => compressed.push(b));
  gzip.write("timestamp,market,platform,revenue\n");
  for (let n = 0; n < (300 * 1024 * 1024) / row.length; n++) if (!gzip.write(row)) await once(gzip, "drain");
  gzip.end();
  await once(gzip, "end");
  const file = Buffer.concat(compressed);
  const blobs: FileReader = {
    get: async () => undefined,
    list: async () => ["bomb.csv.gz"],
    read: async () =>
      (async function* () {
        for (let at = 0; at < file.length; at += 64 * 1024) yield file.subarray(at, at + 64 * 1024);
      })(),
  };
  const metricSet = { ...bigMetricSet, MetricSetFrequency: "PT1H" as const, MetricSource: { S3SourceConfig: { TemplatedPathList: ["f/"] } } };
  const before = process.cpuUsage();
  const read = await readInterval(blobs, metricSet, Date.UTC(2021, 0, 1));
  const cpu = process.cpuUsage(before);
  if (!read.overBudget) throw new Error("the read was not stopped at BytesPerInterval");
  report(`one interval, a ${fmt(file.length / 1024)} KB GZIP that inflates to 300 MiB: CPU to read it up to BytesPerInterval, ${L4M_QUOTAS.bytesPerInterval.PT1H / 1024 / 1024} MiB at PT1H (s)`, fmt((cpu.user + cpu.system) / 1e6, 1));
}

const run_ = (cmd: string, args: string[]) => run(cmd, args);

function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

function demo(): void {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  const [, ms] = timeIt(() => run(process.execPath, ["bin/vigil.mjs", "demo", "--data-dir", dir]));
  rmSync(dir, { recursive: true, force: true });
  report("vigil demo, whole run (s)", fmt(ms / 1000, 1), "< 60");
}

function ecommerce(bench: string): void {
  const data = resolve(bench, "../data/l4m-ecommerce/ecommerce");
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  const out = join(dir, "anomalies.jsonl");
  const [, ms] = timeIt(() => run(process.execPath, ["bin/vigil.mjs", "backtest", "--metric-set", "bench/ecommerce/metric-set.json", "--data", join(data, "backtest/input.csv"), "--from", "2020-10-15", "--out", out]));
  const scored = JSON.parse(run(process.execPath, [join(bench, "ecommerce/score.mjs"), "--labels", join(data, "label-dev.csv"), "--anomalies", out, "--from", "2020-10-15", "--to", "2021-01-01", "--threshold", "70"]));
  rmSync(dir, { recursive: true, force: true });
  const at = scored.atThreshold;
  report("ecommerce backtest, 91,728 rows (s)", fmt(ms / 1000, 1));
  report("ecommerce at severity 70: segment recall", fmt(at.recall, 3), "≥ 0.98");
  report("ecommerce at severity 70: event precision", fmt(at.precision, 3));
  report("ecommerce at severity 70: F1", fmt(at.f1, 3), "≥ 0.95");
  report("ecommerce best threshold: F1 (at score)", `${fmt(scored.best.f1, 3)} (${scored.best.threshold})`);
}

/**
 * `vigil backtest` on a 1,000,000-row CSV (1,000 series × 1,000 hours, about 34 MB): its
 * peak memory, from the kernel's count (bench/max-rss.cjs), and its time.
 */
function backtestMemory(): void {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  try {
    const file = join(dir, "history.csv");
    const fd = openSync(file, "w");
    writeSync(fd, "timestamp,marketplace,platform,revenue\n");
    const t0 = Date.UTC(2021, 0, 1);
    for (let h = 0; h < 1000; h++) {
      const stamp = new Date(t0 + h * HOUR).toISOString().slice(0, 19).replace("T", " ");
      const lines: string[] = [];
      for (let m = 0; m < 100; m++) for (let p = 0; p < 10; p++) lines.push(`${stamp},m${m},p${p},${(100 + ((m * 7 + p * 3 + h) % 17) + 20 * Math.sin((2 * Math.PI * h) / 24)).toFixed(2)}`);
      writeSync(fd, lines.join("\n") + "\n");
    }
    closeSync(fd);
    const metricSet = join(dir, "metric-set.json");
    writeFileSync(
      metricSet,
      JSON.stringify({
        MetricSetName: "big",
        MetricSetFrequency: "PT1H",
        MetricList: [{ MetricName: "revenue", AggregationFunction: "SUM" }],
        DimensionList: ["marketplace", "platform"],
        TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
        Timezone: "UTC",
        MetricSource: { S3SourceConfig: { HistoricalDataPathList: [file], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } },
      }),
    );
    const rssFile = join(dir, "rss");
    const start = performance.now();
    const r = spawnSync(process.execPath, ["-r", resolve("bench/max-rss.cjs"), "bin/vigil.mjs", "backtest", "--metric-set", metricSet, "--data", file, "--out", join(dir, "anomalies.jsonl")], { encoding: "utf8", env: { ...process.env, VIGIL_BENCH_RSS_FILE: rssFile }, maxBuffer: 1 << 26 });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`vigil backtest failed: ${r.stderr}`);
    report(`vigil backtest, 1,000,000-row CSV (${fmt(statSync(file).size / 1e6)} MB): peak RSS (MB)`, fmt(Number(readFileSync(rssFile, "utf8")) / 1e6), "≤ 300");
    report("vigil backtest, 1,000,000-row CSV: whole run (s)", fmt(ms / 1000, 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Feedback that teaches, measured: L4M's ecommerce sample is replayed, scored from Oct 15;
 * on Nov 23 a person marks every false event of the weeks before as "not an anomaly" (an
 * anomaly at severity ≥ 70 of a series with no labelled hour within 6 h); false events and
 * recall after that, with and without the review.
 */
async function feedbackOnEcommerce(bench: string): Promise<void> {
  const data = resolve(bench, "../data/l4m-ecommerce/ecommerce");
  const labels = join(data, "label-dev.csv");
  const labelled = new Set<string>();
  const lines = readFileSync(labels, "utf8").trim().split("\n");
  const cols = lines[0]!.split(",");
  const [p, m, t, l] = ["platform", "marketplace", "timestamp", "views_label"].map((c) => cols.indexOf(c));
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    if (f[l!] === "1") labelled.add(`${f[p!]}|${f[m!]}|${Date.parse(`${f[t!]!.replace(" ", "T")}Z`)}`);
  }
  const near = (a: { dimensions: Readonly<Record<string, string>>; timestamp: number }) => Array.from({ length: 13 }, (_, i) => a.timestamp + (i - 6) * HOUR).some((h) => labelled.has(`${a.dimensions["platform"]}|${a.dimensions["marketplace"]}|${h}`));
  const metricSet = await loadMetricSetFile("bench/ecommerce/metric-set.json");
  const blobs = localFiles();
  const from = Date.parse("2020-10-15T00:00:00Z");
  const reviewAt = Date.parse("2020-11-23T00:00:00Z");
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  const second = async (review: boolean) => {
    const run = await backtestFiles(blobs, metricSet, [join(data, "backtest/input.csv")], { from, ...(review ? { review: { at: reviewAt, verdict: (a: Anomaly) => (a.score >= 70 && !near(a) ? false : undefined) } } : {}) });
    const out = join(dir, `anomalies-${review}.jsonl`);
    writeFileSync(out, toJsonLines(anomalyRecords(run)));
    const judged = run.anomalies.filter((a) => a.timestamp < reviewAt && a.score >= 70 && !near(a)).length;
    const at = (threshold: number) => JSON.parse(run_(process.execPath, [join(bench, "ecommerce/score.mjs"), "--labels", labels, "--anomalies", out, "--from", "2020-11-23", "--to", "2021-01-01", "--threshold", String(threshold)])).atThreshold;
    return { ...at(70), at60: at(60), judged };
  };
  const [without, withReview] = [await second(false), await second(true)];
  rmSync(dir, { recursive: true, force: true });
  report("feedback: anomalies marked 'not an anomaly' (Oct 15 – Nov 22)", fmt(withReview.judged));
  report("feedback: false events Nov 23 – Dec 31, without → with", `${without.falseEvents} → ${withReview.falseEvents}`);
  report("feedback: segment recall Nov 23 – Dec 31, without → with", `${fmt(without.recall, 3)} → ${fmt(withReview.recall, 3)}`);
  report("feedback: at severity 60, false events, without → with", `${without.at60.falseEvents} → ${withReview.at60.falseEvents}`);
  report("feedback: at severity 60, segment recall, without → with", `${fmt(without.at60.recall, 3)} → ${fmt(withReview.at60.recall, 3)}`);
}

/** The product's path as a detector: each series a one-series metric set run by `vigil backtest`, scored where an alert fires (the bench folder's README). */
const productPath = (bench: string) => ({ command: [process.execPath, join(bench, "product-detector.mjs")], env: { VIGIL_CLI: resolve("bin/vigil.mjs"), ONSET: "1" } });

/**
 * NAB's development set through the product's path, then each category with windows scored as
 * a set of its own (its files alone: its own threshold sweep, null and perfect scores) and the
 * other categories together, from the same run: whether a gain is general or one category's.
 */
function nab(bench: string): void {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  try {
    const root = join(bench, "nab/nab-dev");
    const { command, env } = productPath(bench);
    const out = run(process.execPath, [join(bench, "nab/run-detector.mjs"), "--nab", root, "--out", dir, "--detector", "product", "--jobs", "2", "--score", "--", ...command], env);
    const score = JSON.parse(out.slice(out.indexOf("{"))).score as NabScore;
    report("NAB dev set, product path, standard profile", fmt(score.standard, 2), "≥ 75");
    report("NAB dev set, product path, reward_low_FP_rate", fmt(score.reward_low_FP_rate, 2), "≥ 66");
    report("NAB dev set, product path, reward_low_FN_rate", fmt(score.reward_low_FN_rate, 2));
    const windows = JSON.parse(readFileSync(join(root, "labels/combined_windows.json"), "utf8")) as Record<string, unknown[]>;
    const categoryOf = (file: string) => file.slice(0, file.indexOf("/"));
    const categories = [...new Set(Object.keys(windows).map(categoryOf))].filter((c) => Object.entries(windows).some(([f, w]) => categoryOf(f) === c && w.length > 0));
    const scored = (files: (file: string) => boolean, name: string) => {
      const subset = join(dir, `${name}.json`);
      writeFileSync(subset, JSON.stringify(Object.fromEntries(Object.entries(windows).filter(([f]) => files(f)))));
      const s = JSON.parse(run(process.execPath, [join(bench, "nab/score.mjs"), "--nab", root, "--results", dir, "--detector", "product", "--windows", subset])) as NabScore;
      return [s.standard, s.reward_low_FP_rate, s.reward_low_FN_rate].map((x) => fmt(x, 2)).join(" / ");
    };
    for (const c of categories) {
      report(`NAB dev set, product path, ${c} alone, standard / low FP / low FN`, scored((f) => categoryOf(f) === c, `${c}-alone`));
      report(`NAB dev set, product path, every category but ${c}, standard / low FP / low FN`, scored((f) => categoryOf(f) !== c, `${c}-out`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type NabScore = { standard: number; reward_low_FP_rate: number; reward_low_FN_rate: number };

/**
 * The KPIs through the product's path twice: as the bench folder's runner sends them (the
 * L4M frequency nearest each series' step, so minute data at PT5M), and at their own step
 * (bench/own-step-detector.mjs: the same path with Vigil's frequencies, PT1M included). Then,
 * for reference, the bench folder's rolling z-score on what that runner gives Vigil
 * (bench/five-minute-zscore.mjs): what a plain detector finds at the same five minutes.
 */
function kpi(bench: string): void {
  const targets = { event: "≥ 0.70", pointAdjusted: "≥ 0.93" };
  const detectors: { label: string; command: string[]; env: Record<string, string>; targets?: typeof targets }[] = [
    { label: "product path as the bench folder's runner sends them (minute data at PT5M)", ...productPath(bench), targets },
    { label: "product path at their own step (minute data at PT1M)", command: [process.execPath, resolve("bench/own-step-detector.mjs")], env: {}, targets },
    { label: "reference, not the product: rolling z-score over 100 minutes on the runner's five-minute averages", command: [process.execPath, resolve("bench/five-minute-zscore.mjs")], env: { BENCH_DIR: bench } },
  ];
  for (const { label, command, env, targets } of detectors) {
    const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
    const out = run(process.execPath, [join(bench, "kpi/run.mjs"), "--out", dir, "--jobs", "2", "--at", "0.7", "--", ...command], env);
    rmSync(dir, { recursive: true, force: true });
    const r = JSON.parse(out.slice(out.indexOf("{"))) as KpiReport;
    report(`AIOps KPIs, ${label}, event F1 at 0.7 (found / false alarms)`, `${fmt(r.event.at.f1, 3)} (${r.event.at.found} / ${r.event.at.falseAlarms})`, targets?.event);
    report(`AIOps KPIs, ${label}, PA-delay-7 F1`, fmt(r.pointAdjustedDelay7.f1, 3), targets?.pointAdjusted);
  }
}

/** What kpi/run.mjs prints, as far as the bench reads it. */
type KpiReport = { event: { at: { f1: number; found: number; falseAlarms: number } }; pointAdjustedDelay7: { f1: number } };

/**
 * Each function bundled as serverless.yml bundles it (code splitting: what is loaded on
 * first use sits in files of its own): what a cold start loads (the handler and the files
 * it imports statically) and everything the function ships, without source maps; and the
 * time a fresh node takes to run the handler's import, over the time it takes to import
 * an empty module (median of 9 each, interleaved), in AWS mode.
 */
async function functionBundles(): Promise<void> {
  const config = parse(readFileSync("serverless.yml", "utf8"), { customTags: ["!Ref", "!GetAtt", "!Sub"].map((tag) => ({ tag, resolve: (v: string) => v })) }) as {
    functions: Record<string, { handler: string }>;
    custom: { esbuild: { banner: { js: string }; mainFields: string[]; splitting: boolean; chunkNames: string; plugins: string } };
  };
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
  try {
    const empty = join(dir, "empty.mjs");
    writeFileSync(empty, "");
    // As packaged: functions/package.json marks the bundles beside it as ES modules, so Node reads them as such without first trying them as CommonJS.
    writeFileSync(join(dir, "package.json"), readFileSync("functions/package.json"));
    const env = { ...process.env, VIGIL_MODE: "aws", VIGIL_TABLE: "vigil-records", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "us-east-1" };
    // Wall time of the whole process, and the CPU time it used (which the machine's other load disturbs less).
    const started = (file: string) => {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(pathToFileURL(file).href)}); const u = process.cpuUsage(); console.log((u.user + u.system) / 1000);`], { env, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`importing ${file} failed: ${r.stderr}`);
      return { wall: Number(process.hrtime.bigint() - t) / 1e6, cpu: Number(r.stdout.trim()) };
    };
    // The extra time (median of 9, each interleaved with an empty module's) a fresh node takes to import `file`.
    const overEmpty = (file: string) => {
      const over: { wall: number; cpu: number }[] = [];
      const base: { wall: number; cpu: number }[] = [];
      for (let i = 0; i < 9; i++) {
        base.push(started(empty));
        over.push(started(file));
      }
      const extra = (k: "wall" | "cpu") => median(over.map((o) => o[k])) - median(base.map((b) => b[k]));
      return `+${fmt(extra("wall"))} (+${fmt(extra("cpu"))})`;
    };
    const esbuild = config.custom.esbuild;
    const plugins = ((await import(pathToFileURL(resolve(esbuild.plugins)).href)) as { default: Plugin[] }).default;
    // Built as serverless.yml builds each function.
    const bundle = (input: { entryPoints: string[] } | { stdin: { contents: string; resolveDir: string; sourcefile: string } }, outdir: string) =>
      build({
        ...input,
        outdir,
        bundle: true,
        minify: true,
        platform: "node",
        format: "esm",
        target: "node22",
        splitting: esbuild.splitting,
        chunkNames: esbuild.chunkNames,
        banner: esbuild.banner,
        mainFields: esbuild.mainFields,
        plugins,
        metafile: true,
        logLevel: "error",
      });
    // What every function imports of its dependencies at a cold start, and nothing of Vigil's own (docs/scaling.md): DynamoDB's client and the commands
    // the record store sends, Powertools' logger and metrics (made, as each handler makes them) with their middy middlewares, and one zod/mini schema.
    const dependencies = [
      'import { BatchWriteItemCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";',
      'import { Logger } from "@aws-lambda-powertools/logger";',
      'import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";',
      'import { Metrics } from "@aws-lambda-powertools/metrics";',
      'import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";',
      'import middy from "@middy/core";',
      'import * as z from "zod/mini";',
      "const Event = z.object({ Records: z.array(z.object({ body: z.string() })) });",
      "const commands = [BatchWriteItemCommand, DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand];",
      'export const handler = middy(async (event) => [DynamoDBClient, commands, Event.parse(event)]).use(injectLambdaContext(new Logger())).use(logMetrics(new Metrics({ namespace: "Vigil" })));',
    ].join("\n");
    const floor = await bundle({ stdin: { contents: dependencies, resolveDir: process.cwd(), sourcefile: "dependencies.ts" } }, join(dir, "dependencies"));
    const floorEntry = Object.keys(floor.metafile.outputs).find((o) => floor.metafile.outputs[o]!.entryPoint === "dependencies.ts")!;
    report("the dependencies alone (DynamoDB's client and commands, Powertools' logger and metrics, middy, zod), built the same way: cold import over an empty module, median of 9: wall (CPU) ms", overEmpty(resolve(floorEntry)));
    for (const [name, fn] of Object.entries(config.functions)) {
      const source = `${fn.handler.slice(0, fn.handler.lastIndexOf("."))}.ts`;
      const out = await bundle({ entryPoints: [source] }, join(dir, name));
      const outputs = out.metafile.outputs;
      const entry = Object.keys(outputs).find((o) => outputs[o]!.entryPoint === source)!;
      const loaded = new Set<string>();
      const visit = (file: string) => {
        if (loaded.has(file)) return;
        loaded.add(file);
        for (const i of outputs[file]!.imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
      };
      visit(entry);
      const kb = (files: Iterable<string>) => [...files].reduce((sum, f) => sum + outputs[f]!.bytes, 0) / 1024;
      report(`${name} bundle, loaded at a cold start / all it ships (KB)`, `${fmt(kb(loaded))} / ${fmt(kb(Object.keys(outputs)))}`, "< 600");
      report(`${name} cold import over an empty module, fresh node, median of 9: wall (CPU) ms`, overEmpty(resolve(entry)), "< +50");
      // The first invocation of the function's sample event, AWS at a port that refuses connections: the clients' first request is made (credentials, endpoint, HTTP agent) and fails at once.
      const sample = readdirSync(join("events", name)).filter((f) => f.endsWith(".json")).sort()[0]!;
      const firsts = Array.from({ length: 9 }, () => firstInvocationCpu(resolve(entry), join("events", name, sample), env));
      report(`${name} first invocation (${sample}, AWS unreachable) after its import, CPU ms, median of 9`, fmt(median(firsts)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU time (ms) a fresh node spends in a handler's first invocation of `event`, every AWS endpoint at a closed local port. */
function firstInvocationCpu(handler: string, event: string, env: NodeJS.ProcessEnv): number {
  const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(handler).href)});
const event = JSON.parse((await import("node:fs")).readFileSync(${JSON.stringify(event)}, "utf8"));
const before = process.cpuUsage();
try { await handler(event, { functionName: "bench", awsRequestId: "bench", invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:bench", getRemainingTimeInMillis: () => 60_000 }); } catch {}
const u = process.cpuUsage(before);
process.stdout.write("\\ncpu " + (u.user + u.system) / 1000);`;
  const closed = { AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", AWS_SESSION_TOKEN: "" };
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...env, ...closed }, encoding: "utf8" });
  const cpu = /\ncpu (\S+)$/.exec(r.stdout);
  if (r.status !== 0 || !cpu) throw new Error(`invoking ${handler} failed: ${r.stderr}`);
  return Number(cpu[1]);
}

/** An anomaly group event of `series` series, as detection announces it (its chart's values rounded as detection rounds them). */
function benchEvent(i: number, series: number): AnomalyGroupEvent {
  const t = Date.UTC(2021, 2, 1) + i * HOUR;
  const expected = Array.from({ length: 24 }, (_, j) => chartValue(1000 + 100 * Math.sin(j / 3)));
  const values = (v: string[]) => v.map((value, j) => ({ DimensionValue: value, ContributionScore: 100 / (j + 1) }));
  const markets = Array.from({ length: series }, (_, j) => `m${j}`);
  return {
    type: "AnomalyGroupChanged",
    anomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:bench",
    metricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/bench/orders",
    revision: 1,
    intervalStart: t,
    intervalMs: HOUR,
    anomalyGroup: {
      AnomalyGroupId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}` as AnomalyGroupId,
      StartTime: new Date(t).toISOString(),
      EndTime: new Date(t).toISOString(),
      AnomalyGroupScore: 90,
      PrimaryMetricName: "revenue",
      MetricLevelImpactList: [{ MetricName: "revenue", NumTimeSeries: series, ContributionMatrix: { DimensionContributionList: [{ DimensionName: "marketplace", DimensionValueContributionList: values(markets) }] } }],
    },
    summary: {
      measure: "revenue",
      direction: "DOWN",
      actual: 400,
      expected: 1000,
      contributors: [{ name: "marketplace", value: "m0", share: 100 }],
      affected: ["marketplace=m0"],
      relevantTimeSeries: markets.slice(0, 10).map((m, j) => ({ timeSeriesId: String(j).repeat(128).slice(0, 128), dimensions: [{ dimensionName: "marketplace", dimensionValue: m }], metricValue: 40, expectedValue: 100 })),
      chart: { start: t - 23 * HOUR, intervalMs: HOUR, actual: expected.map((e, j) => chartValue(j === 23 ? e * 0.4 : e)), expected, lower: expected.map((e) => chartValue(e - 50)), upper: expected.map((e) => chartValue(e + 50)) },
    },
  };
}

/**
 * Alerts rendered per second (every channel's format); then alert fan-out, side by side
 * with Prometheus Alertmanager: 2,000 distinct anomaly groups, each told to a signed
 * webhook on loopback (routed, signed, sent and recorded), against 2,000 alerts posted to
 * Alertmanager with the same receiver as its webhook.
 */
async function alertPipeline(): Promise<void> {
  const events = Array.from({ length: 2000 }, (_, i) => benchEvent(i, 20));
  const alert = { AlertName: "bench", AlertArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:bench" as AlertArn };
  const [, renderMs] = timeIt(() => {
    for (const e of events) {
      const m = alertMessage(alert, e, "first", "http://localhost:8087");
      l4mAlertJson(m);
      longText(m);
      shortText(m);
      slackMessage(m);
      webhookBody(m);
      emailMessage(m);
    }
  });
  report("alert messages rendered per second, all six formats each", fmt(events.length / (renderMs / 1000)));

  const receiver = await Receiver.start();
  let bareSender: BareSender | undefined;
  try {
    // The bodies Vigil's run sends: its links signed (the same lengths; the key is the bench's own), each with its delivery id.
    const links = { publicUrl: "http://localhost:8087", secret: "bench-link-secret-".padEnd(40, "x"), now: Date.UTC(2021, 2, 1) };
    const messages = events.map((e) => alertMessage(alert, e, "first", links));
    bareSender = await BareSender.start(`${receiver.url}/bare`, messages.map((m) => ({ id: m.deliveryId, body: JSON.stringify(webhookBody(m)) })));
    const vigil: FanOut[] = [];
    const manager: FanOut[] = [];
    const bare: FanOut[] = [];
    const binary = alertmanagerBinary();
    if (!binary) report("Prometheus Alertmanager", "skipped: no prometheus-alertmanager on PATH (apt-get install prometheus-alertmanager)");
    // Interleaved, three runs each: the machine may be shared, and each run meets the same load.
    for (let run = 0; run < 3; run++) {
      vigil.push(await vigilFanOut(receiver, events));
      if (binary) manager.push(await alertmanagerFanOut(binary, receiver, events.length, run));
      bare.push(await bareSender.fanOut(receiver, events.length));
    }
    const rate = (ms: number) => events.length / (ms / 1000);
    const cpu = (runs: FanOut[]) => fmt(median(runs.map((r) => r.cpuMs / events.length)), 2);
    const wall = (runs: FanOut[]) => median(runs.map((r) => r.ms));
    report(`alert fan-out, ${fmt(events.length)} groups → signed webhook on loopback, Vigil (per second, median of 3)`, fmt(rate(wall(vigil))));
    report("alert fan-out, Vigil's CPU per delivery, all its threads (ms, median of 3)", cpu(vigil));
    if (binary) {
      report(`alert fan-out, the same ${fmt(events.length)} alerts → the same receiver, Alertmanager ${alertmanagerVersion(binary)} (per second, median of 3)`, fmt(rate(wall(manager))));
      if (manager.every((m) => Number.isFinite(m.cpuMs))) report("alert fan-out, Alertmanager's CPU per alert, all its threads (ms, median of 3)", cpu(manager));
      report("alert fan-out, Vigil ÷ Alertmanager", fmt(wall(manager) / wall(vigil), 2), "≥ 2.0");
    }
    // node:http alone with the same bodies, in a process of its own that starts with Vigil's, run beside the two above (docs/scaling.md).
    report("alert fan-out, node:http alone: the same signed bodies, 64 at a time, no routing or records, its process's first three runs (per second, median of 3; CPU per message, ms)", `${fmt(rate(wall(bare)))}; ${cpu(bare)}`);
    if (binary) report("alert fan-out, node:http alone ÷ Alertmanager", fmt(wall(manager) / wall(bare), 2));
    // The same path once more in the same process, now that it has sent 6,000 deliveries and V8 has compiled it, as in a
    // `vigil serve` that has run a while; the figures above are the first runs of a process. Told apart, not instead; and node:http alone likewise.
    const steady = await vigilFanOut(receiver, events);
    const bareSteady = await bareSender.fanOut(receiver, events.length);
    report(`alert fan-out, Vigil once its process has sent ${fmt(3 * events.length)} deliveries (per second; CPU per delivery, ms; one run)`, `${fmt(rate(steady.ms))}; ${fmt(steady.cpuMs / events.length, 2)}`);
    if (binary) report("alert fan-out, that ÷ Alertmanager's median", fmt(wall(manager) / steady.ms, 2));
    report(`alert fan-out, node:http alone once its process has sent ${fmt(3 * events.length)} (per second; CPU per message, ms; one run)`, `${fmt(rate(bareSteady.ms))}; ${fmt(bareSteady.cpuMs / events.length, 2)}`);
    if (binary) report("alert fan-out, that ÷ Alertmanager's median", fmt(wall(manager) / bareSteady.ms, 2));
  } finally {
    try {
      await bareSender?.stop();
    } finally {
      await receiver.stop();
    }
  }
}

/** The next message from the bench's child process `child` that carries `key`; fails should the child exit first, or say it failed. */
function nextMessage<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>) => {
      if (typeof m.failed === "string") return settle(() => reject(new Error(`a bench process failed: ${m.failed}`)));
      if (key in m) settle(() => resolve(m as T));
    };
    const exited = (code: number | null) => settle(() => reject(new Error(`a bench process exited (${code})`)));
    const settle = (then: () => void) => {
      child.off("message", on);
      child.off("exit", exited);
      then();
    };
    child.on("message", on);
    child.once("exit", exited);
  });
}

/** The webhook receiver of bench/webhook-receiver.mjs, in its own process. */
class Receiver {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<Receiver> {
    const child = fork(resolve("bench/webhook-receiver.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const { port } = await nextMessage<{ port: number }>(child, "port");
    return new Receiver(child, `http://127.0.0.1:${port}`);
  }

  /** Expects `n` requests; resolves with the epoch ms (sub-ms) at which the n-th arrived. */
  async expect(n: number): Promise<{ readonly last: Promise<number> }> {
    const last = nextMessage<{ done: number }>(this.child, "done").then((m) => m.done);
    // Awaited by the run that asked, unless that run failed first: its rejection is then no one's.
    last.catch(() => undefined);
    this.child.send({ expect: n });
    await nextMessage(this.child, "expecting");
    return { last };
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.send({ stop: true });
    await exited;
  }
}

/** node:http alone (bench/bare-sender.mjs), in a process of its own: what a sender built on it cannot do without. */
class BareSender {
  private constructor(private readonly child: ChildProcess) {}

  /** A sender of these bodies (one JSON text each, with its delivery id) to `url`. */
  static async start(url: string, bodies: readonly { id: string; body: string }[]): Promise<BareSender> {
    const dir = mkdtempSync(join(tmpdir(), "vigil-bench-bare-"));
    const child = fork(resolve("bench/bare-sender.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    try {
      writeFileSync(join(dir, "bodies.jsonl"), bodies.map((b) => JSON.stringify(b)).join("\n"));
      const ready = nextMessage(child, "ready");
      child.send({ url, bodies: join(dir, "bodies.jsonl") });
      await ready;
      return new BareSender(child);
    } catch (e) {
      child.kill();
      throw e;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Sends every body once, timed up to the receiver's receipt of the last. */
  async fanOut(receiver: Receiver, n: number): Promise<FanOut> {
    if (!this.child.connected) throw new Error("the bench's node:http sender exited");
    const { last } = await receiver.expect(n);
    const sent = nextMessage<{ cpuMs: number }>(this.child, "sent");
    const start = epochNow();
    this.child.send({ send: true });
    const { cpuMs } = await sent;
    return { ms: (await last) - start, cpuMs };
  }

  /** Stops the sender; one that exited already is left as it is. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, "exit");
    if (this.child.connected) this.child.send({ stop: true });
    else this.child.kill();
    await exited;
  }
}

const epochNow = () => performance.timeOrigin + performance.now();

/** One fan-out run: its wall time up to the receipt of the last message, and the CPU the sender's process spent meanwhile. */
interface FanOut {
  readonly ms: number;
  readonly cpuMs: number;
}

/** A process's CPU time so far (user and system, ms), from /proc; NaN where that cannot be read. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Linux's clock ticks per second, in which /proc counts CPU time. */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** Vigil in local mode, one webhook alert with a secret: the events routed as one batch, each delivery signed, sent and recorded. */
async function vigilFanOut(receiver: Receiver, events: AnomalyGroupEvent[]): Promise<FanOut> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-alerts-"));
  try {
    const rt = localServices(dir, { clock: () => Date.UTC(2021, 2, 1) });
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "bench", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createAlert(rt, OPERATOR, { AlertName: "bench", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: `${receiver.url}/hook`, Secret: "bench-secret" } } });
    const { last } = await receiver.expect(events.length);
    const start = epochNow();
    const cpu = process.cpuUsage();
    const routed = await routeEvents(rt, events);
    const failed = routed.filter((r) => r.status === "rejected" || !r.value.some((v) => v.outcome === "enqueued"));
    if (failed.length) throw new Error(`${failed.length} of ${events.length} events were not told`);
    const ms = (await last) - start;
    const spent = process.cpuUsage(cpu);
    return { ms, cpuMs: (spent.user + spent.system) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function alertmanagerBinary(): string | undefined {
  for (const name of ["prometheus-alertmanager", "alertmanager"]) if (spawnSync(name, ["--version"]).status === 0) return name;
  return undefined;
}

const alertmanagerVersion = (binary: string) => /version (\S+)/.exec(spawnSync(binary, ["--version"], { encoding: "utf8" }).stderr + spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout)?.[1] ?? "";

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return port;
}

/**
 * Alertmanager driven the same way: its webhook receiver is the bench's receiver, every
 * alert its own group (group_by: ['...']) sent at once (group_wait 0s), the alerts posted
 * to its API in one request, timed up to the receipt of the last notification.
 */
async function alertmanagerFanOut(binary: string, receiver: Receiver, n: number, run: number): Promise<FanOut> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-am-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "alertmanager.yml"),
    ["route:", "  receiver: bench", "  group_by: ['...']", "  group_wait: 0s", "  group_interval: 1h", "  repeat_interval: 24h", "receivers:", "  - name: bench", "    webhook_configs:", `      - url: ${receiver.url}/alertmanager`, "        send_resolved: false", ""].join("\n"),
  );
  const child = spawn(binary, [`--config.file=${join(dir, "alertmanager.yml")}`, `--storage.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="], { stdio: "ignore" });
  try {
    const api = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (await fetch(`${api}/-/ready`).then((r) => r.ok, () => false)) break;
      if (i === 100) throw new Error("Alertmanager did not become ready within 10 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const startsAt = new Date().toISOString();
    const alerts = Array.from({ length: n }, (_, i) => ({ labels: { alertname: "bench", run: String(run), group: `g${i}` }, annotations: { summary: `revenue down in group ${i}` }, startsAt }));
    const { last } = await receiver.expect(n);
    const start = epochNow();
    const cpu = processCpuMs(child.pid!);
    const posted = await fetch(`${api}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(alerts) });
    if (!posted.ok) throw new Error(`Alertmanager refused the alerts: ${posted.status} ${await posted.text()}`);
    const ms = (await last) - start;
    return { ms, cpuMs: processCpuMs(child.pid!) - cpu };
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill();
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Timestamp patterns (ColumnFormat) as luxon reads them: patterns made at random from luxon's
 * tokens and literals, those the metric-set check accepts (shared/model/timestamp-format.ts)
 * each given cells made to fit none, and the slowest refusal timed. A pattern the check
 * refuses (`dM` eight times) takes luxon tens of seconds on one such cell.
 */
function timestampPatterns(): void {
  const pieces = ["yyyy", "yy", "y", "MM", "M", "dd", "d", "HH", "H", "hh", "h", "mm", "m", "ss", "s", "SSS", "S", "u", "MMM", "EEE", "a", "z", "ZZ", "ZZZ", "-", ":", " ", ".", "/", "'T'", "x", "1", "+"];
  // As long as a cell handed to luxon may be (MAX_PATTERN_CELL).
  const n = MAX_PATTERN_CELL;
  const hostile = ["1".repeat(n - 1) + "x", "a".repeat(n - 1) + "1", "+".repeat(n / 2) + "1".repeat(n / 2 - 1) + "x", "1-".repeat(n / 2 - 1) + "1x", "1 ".repeat(n / 2 - 1) + "1x"];
  let seed = 1;
  const random = () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647);
  let accepted = 0;
  let slowest = { ms: 0, format: "" };
  for (let tried = 0; accepted < 2_000 && tried < 200_000; tried++) {
    const format = Array.from({ length: 2 + Math.floor(random() * 10) }, () => pieces[Math.floor(random() * pieces.length)]!).join("").slice(0, 63);
    if (timestampFormatProblem(format) !== undefined) continue;
    accepted++;
    for (const cell of hostile) {
      const start = performance.now();
      DateTime.fromFormat(cell, format, { zone: "UTC" });
      const ms = performance.now() - start;
      if (ms > slowest.ms) slowest = { ms, format };
    }
  }
  report(`timestamp patterns: ${fmt(accepted)} the check accepts × ${hostile.length} hostile cells of ${MAX_PATTERN_CELL} characters, slowest refusal (ms; its pattern)`, `${fmt(slowest.ms, 2)} (${slowest.format})`, "< 50");
}

/**
 * The long fuzz run: signed requests over every route against `vigil serve` in its own
 * process (the shipped bundle), one at a time and then 8 at a time; any answer of 500 or
 * more is printed with its request.
 */
async function fuzz(): Promise<void> {
  const tenants: [Tenant, Tenant] = [
    { accessKeyId: "FUZZKEY1", secretAccessKey: "fuzz-secret-0123456789" },
    { accessKeyId: "OTHERKEY", secretAccessKey: "other-secret-0123456789" },
  ];
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-fuzz-"));
  const env = { ...process.env, VIGIL_ACCESS_KEY_ID: tenants[0].accessKeyId, VIGIL_SECRET_ACCESS_KEY: tenants[0].secretAccessKey, VIGIL_TENANTS: `other:${tenants[1].accessKeyId}:${tenants[1].secretAccessKey}` };
  // The default tenant may read the files the seed writes (its data root), as in the fuzz test.
  const server = await startVigilServe(join(dir, "vigil"), { env, args: ["--data-root", join(dir, "files")] });
  const { url, child } = server;
  try {
    const world = await seedFuzzData(url, tenants[0], dir);
    const show = (label: string, f: FuzzFigures) => {
      report(`fuzz ${label}: requests (signed by a tenant)`, `${fmt(f.requests)} (${fmt(f.signed)})`, "≥ 10,000 in all");
      report(`fuzz ${label}: routes covered`, `${f.routes.length} of ${OPERATIONS.length + 4}`);
      report(`fuzz ${label}: answers by status`, Object.entries(f.byStatus).map(([s, n]) => `${s}:${n}`).join(" "));
      report(`fuzz ${label}: answers of 500 or more`, fmt(Object.entries(f.byStatus).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0)), "0");
      report(`fuzz ${label}: error answers not in L4M's shape`, fmt(f.malformed.length), "0");
      report(`fuzz ${label}: requests per second`, fmt(f.requests / (f.ms / 1000)));
      for (const e of f.serverErrors.slice(0, 5)) console.error(`    ${e.status} ${e.request.method} ${e.request.path.slice(0, 80)} ${e.request.body.slice(0, 120)}`);
    };
    show("one at a time", await runFuzz(url, fuzzRequests(world, 1, 12_000), tenants, 1));
    show("8 at a time", await runFuzz(url, fuzzRequests(world, 2, 4_000), tenants, 8));
    const alive = child.exitCode === null && (await fetch(`${url}/health`)).status === 200;
    report("fuzz: vigil serve still answering afterwards", alive ? "yes" : "NO", "yes");
    const logged = server.stderr().match(/^vigil serve: .+ failed \(request [0-9a-f-]{36}\): .*$/gm) ?? [];
    report("fuzz: unexpected errors logged with their request id", fmt(logged.length), "0");
    for (const line of logged.slice(0, 5)) console.error(`    ${line.slice(0, 240)}`);
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `clients` concurrent callers, each making `perClient` calls in turn: calls per second and the 99th percentile latency. */
async function load(clients: number, perClient: number, call: (client: number, n: number) => Promise<unknown>): Promise<{ perSecond: number; p99: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let n = 0; n < perClient; n++) {
        const t = performance.now();
        await call(c, n);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / seconds, p99: latencies[Math.ceil(latencies.length * 0.99) - 1]! };
}

/**
 * Lists over 10,000 anomaly groups of one metric set in the local mode's record store, 20
 * clients at once, through the one store of the local services, as `vigil serve` has it: a
 * page of 100 in id order (walking on by cursor), and what ListAnomalyGroupSummaries needs
 * (the 100 most severe at score 50 or more, with their count per measure).
 */
async function recordLists(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-records-"));
  const records: RecordStore = localServices(dir, { clock: () => Date.UTC(2021, 2, 1) }).records;
  const groups = Array.from({ length: 10_000 }, (_, i) => benchGroup(i));
  const [, writeMs] = await timeAsync(async () => {
    for (const g of groups) await records.put("groups", `bench/orders/${g.AnomalyGroupId}`, g);
  });
  report("records: 10,000 anomaly groups written one at a time, per second", fmt(groups.length / (writeMs / 1000)));

  const cursors = new Map<number, string | undefined>();
  const paged = await load(20, 250, async (c) => {
    const cursor = cursors.get(c);
    const page: Page<AnomalyGroupRecord> = await records.listPage("groups", { prefix: "bench/orders/", limit: 100, ...(cursor ? { cursor } : {}) });
    if (page.items.length !== 100) throw new Error(`a page of ${page.items.length} groups`);
    cursors.set(c, page.cursor);
  });
  report("records: list a page of 100 of 10,000 groups, 20 clients, per second", fmt(paged.perSecond));
  report("records: list a page of 100 of 10,000 groups, 20 clients, p99 ms", fmt(paged.p99, 1));

  const ranked = await load(20, 250, async () => {
    const [page, counts] = await Promise.all([records.listRanked("groups", { partition: "bench/orders/", min: 50, limit: 100 }), records.countRanked("groups", "bench/orders/", 50)]);
    if (page.items.length !== 100 || counts.total < 100) throw new Error(`${page.items.length} groups of ${counts.total}`);
  });
  report("records: 100 most severe of 10,000 groups + counts per measure, 20 clients, per second", fmt(ranked.perSecond));
  report("records: 100 most severe of 10,000 groups + counts per measure, 20 clients, p99 ms", fmt(ranked.p99, 1));
  rmSync(dir, { recursive: true, force: true });
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const out = await fn();
  return [out, performance.now() - start];
}

/** The console as a browser downloads it: the built script and stylesheet, minified, then gzipped (dist/console, from `npm run build`). */
function consoleSize(): void {
  const dir = join("dist", "console", "assets");
  const files = readdirSync(dir).filter((f) => f.endsWith(".js") || f.endsWith(".css"));
  const raw = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  const zipped = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(dir, f))).length, 0);
  report("console JS+CSS, minified", `${fmt(raw / 1024, 1)} KB`);
  report("console JS+CSS, gzipped", `${fmt(zipped / 1024, 1)} KB`, "< 300 KB");
}

/**
 * What keeping every series' value, band and score costs detection (shared/detect/series-points.ts):
 * the bytes of one interval's series.bin and the time to score every series (not only the
 * anomalies) and write it, at 50,000 series; and reading one series back from it.
 */
function keptHistoryCost(): void {
  const metricSet = bigMetricSet;
  const spec = rowSpecOf(metricSet, makeTimestampParser("yyyy-MM-dd HH:mm:ss"));
  const t0 = Date.UTC(2021, 0, 1);
  const cells = (t: number) => aggregateRows(readRecords("f.csv", bigCsv(t), undefined).rows, [], spec, { intervalMs: HOUR }).intervals.get(t);
  const bank = new SeriesBank(HOUR, BIG.markets * BIG.platforms);
  for (let h = 0; h < 30; h++) scoreInterval(bank, metricSet, cells(t0 + h * HOUR), t0 + h * HOUR, { learnOnly: true });
  const [a, b] = [t0 + 30 * HOUR, t0 + 31 * HOUR].map((t) => [t, cells(t)] as const);
  const [, anomaliesOnly] = timeIt(() => scoreInterval(bank, metricSet, a![1], a![0]));
  const [bytes, withKept] = timeIt(() => encodeSeriesPoints(keptPoints(bank, metricSet, b![1], b![0], scoreInterval(bank, metricSet, b![1], b![0]))));
  report("kept history: series.bin, one interval of 50,000 series (bytes)", fmt(bytes.byteLength), `${BYTES_PER_POINT} a series`);
  report("kept history: scoring an interval of 50,000 series, then also keeping every series (ms)", `${fmt(anomaliesOnly)} → ${fmt(withKept)}`);
  const key = seriesHash(metricSet, { measure: "revenue", dimensions: { market: "m123", platform: "p45" } });
  const [found, readMs] = timeIt(() => decodeSeriesPoints(bytes, [key]));
  if (!found.has(key)) throw new Error("the bench's series was not kept");
  report("kept history: one series read back from a 50,000-series interval (ms)", fmt(readMs, 2));
}

/**
 * Time to the first chart of an incident of 100 series, in Debian's Chromium against `vigil
 * serve`: 100 stores' orders learned over two weeks, then all 100 collapse in the same hour.
 * Measured in the page, from the navigation's start to the mark the page makes when it has
 * drawn its first chart: the median of 7 visits (after one that warms the server), then a
 * visit with an empty browser cache.
 */
async function consoleFirstChart(): Promise<void> {
  const chromiumPath = "/usr/bin/chromium";
  if (!existsSync(chromiumPath)) return report("console: time to first chart", "skipped: no /usr/bin/chromium");
  const { chromium } = await import("playwright-core");
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-console-"));
  const stores = 100;
  const t0 = Date.UTC(2021, 0, 4);
  const live = t0 + 14 * 24 * HOUR;
  const rows = (t: number, drop: boolean) =>
    Array.from({ length: stores }, (_, i) => {
      const level = 50 + i + 30 * Math.sin((2 * Math.PI * ((t / HOUR) % 24)) / 24) + ((t / HOUR + i) % 5);
      return `${new Date(t).toISOString().slice(0, 19).replace("T", " ")},s${String(i).padStart(3, "0")},${Math.round(drop ? level / 6 : level)}`;
    });
  let clock = live;
  const setup = localServices(dir, { clock: () => clock });
  const history = ["timestamp,store,orders"];
  for (let h = 0; h < 14 * 24; h++) history.push(...rows(t0 + h * HOUR, false));
  await setup.blobs.put(join(dir, "files", "history", "all.csv"), `${history.join("\n")}\n`);
  for (let h = 0; h < 6; h++) {
    const t = live + h * HOUR;
    const at = new Date(t).toISOString();
    await setup.blobs.put(join(dir, "files", "live", at.slice(0, 10).replaceAll("-", ""), at.slice(11, 13) + "00", "p.csv"), `timestamp,store,orders\n${rows(t, h === 4).join("\n")}\n`);
  }
  const detector = await createDetector(setup, OPERATOR, { AnomalyDetectorName: "stores", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  await createMetricSet(setup, OPERATOR, {
    AnomalyDetectorArn: detector.AnomalyDetectorArn,
    MetricSetName: "orders",
    MetricSetFrequency: "PT1H",
    MetricList: [{ MetricName: "orders", AggregationFunction: "SUM" }],
    DimensionList: ["store"],
    TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
    MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "files", "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "files", "history")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } },
  });
  await activateDetector(setup, OPERATOR, detector.AnomalyDetectorArn);
  let group: { AnomalyGroupId: string; series: number } | undefined;
  for (let h = 1; h <= 6; h++) {
    clock = live + h * HOUR;
    for (const r of await detectDue(setup, clock)) if (r.outcome.kind === "processed" && r.outcome.group) group = { AnomalyGroupId: r.outcome.group.AnomalyGroupId, series: Object.keys(r.outcome.group.impacts["orders"]?.series ?? {}).length };
  }
  // `vigil serve` in a process of its own, as people run it (not sharing this one with the browser's driver), its clock where detection stopped.
  const server = await startVigilServe(dir, { args: ["--clock-start", new Date(clock).toISOString(), "--clock-rate", "1"] });
  const { url } = server;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  try {
    if (!group) throw new Error("the bench's incident was not found");
    report("console: series in the bench's incident", fmt(group.series), "100");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${url}/console/`);
    await page.getByLabel("Access key ID").fill(DEFAULT_ACCESS_KEY_ID);
    await page.getByLabel("Secret access key").fill(DEFAULT_SECRET_ACCESS_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Incidents" }).waitFor();
    const incident = `${url}/console/incident?${new URLSearchParams({ detector: detector.AnomalyDetectorArn, group: group.AnomalyGroupId })}`;
    const firstChart = async (p: typeof page) => {
      await p.goto(incident);
      await p.locator(".series .chart canvas").first().waitFor();
      // The page marks when it drew its first chart (console/app/components/chart.tsx), from the navigation's start.
      return (await p.evaluate(`performance.getEntriesByName("vigil:first-chart")[0].startTime`)) as number;
    };
    const warm: number[] = [];
    for (let i = 0; i < 8; i++) warm.push(await firstChart(page));
    warm.shift(); // the server's first answers warm its code up
    warm.sort((a, b) => a - b);
    report("console: time to first chart, 100-series incident, median of 7 (ms)", fmt(warm[3]!), "< 500");
    // Fresh contexts: signed in, with nothing in their cache (the page, scripts and stylesheet fetched anew); the median of 3.
    const signedIn = await context.storageState();
    const colds: { ms: number; at: number[] }[] = [];
    for (let i = 0; i < 3; i++) {
      const cold = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, storageState: signedIn })).newPage();
      const ms = await firstChart(cold);
      // Where the time went: the incident asked for by the early script, the console running, the series answered.
      const at = (await cold.evaluate(`[performance.getEntriesByType("resource").find((e) => e.name.endsWith("/GetAnomalyGroup")).startTime, performance.getEntriesByName("vigil:console")[0].startTime, performance.getEntriesByType("resource").find((e) => e.name.endsWith("/ListAnomalyGroupTimeSeries")).responseEnd]`)) as number[];
      colds.push({ ms, at });
      await cold.context().close();
    }
    colds.sort((a, b) => a.ms - b.ms);
    report("console: time to first chart, 100-series incident, empty browser cache, median of 3 (ms)", fmt(colds[1]!.ms), "< 500");
    report("console: that visit: incident asked / console running / series answered (ms)", colds[1]!.at.map((x) => fmt(x)).join(" / "));
    const charts = await page.locator(".series .chart canvas").count();
    report("console: charts drawn at first (of 100 series; the rest on request)", fmt(charts));
  } finally {
    await browser.close();
    const exited = once(server.child, "exit");
    server.child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

// A child of the shards section: one step of one size, then out.
const shardStep = process.env.VIGIL_BENCH_SHARD_CHILD;
if (shardStep) {
  const { step, dir, series } = JSON.parse(shardStep) as { step: string; dir: string; series: number };
  await shardChild(step, dir, series);
  process.exit(0);
}

// Children of the history sections: a spilled history learned, or kept history read back, then out.
const historyRows = process.env.VIGIL_BENCH_HISTORY_CHILD;
if (historyRows) {
  await historyBlockChild(Number(historyRows));
  process.exit(0);
}
const keptRead = process.env.VIGIL_BENCH_KEPT_READ_CHILD;
if (keptRead) {
  const { dir, series, intervals, asked, how } = JSON.parse(keptRead) as { dir: string; series: number; intervals: number; asked: number; how: "pieces" | "whole" };
  await keptReadChild(dir, series, intervals, asked, how);
  process.exit(0);
}

// A child of the outage section: one step of one size (one hour when measuring), then out.
const outageStep = process.env.VIGIL_BENCH_OUTAGE_CHILD;
if (outageStep) {
  const { step, dir, series, hour } = JSON.parse(outageStep) as { step: string; dir: string; series: number; hour: number };
  await outageChild(step, dir, series, hour);
  process.exit(0);
}

/** `npm run bench -- <name…>` runs only the sections named (alerts, bundles, console, engine, quiet, spiky, interval, history, shards, outage, demo, backtest, records, service, spool, api, ecommerce, feedback, nab, kpi, fuzz). */
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);
console.error("vigil bench");
// Figures depend on what else runs: the machine's load is printed with them.
report("machine load at the start (1-minute average; cores)", `${fmt(loadavg()[0]!, 2)}; ${availableParallelism()}`);
if (wanted("alerts")) await alertPipeline();
if (wanted("bundles")) await functionBundles();
if (wanted("console")) consoleSize();
if (wanted("console")) await consoleFirstChart();
if (wanted("console")) keptHistoryCost();
if (wanted("engine")) engineSpeed();
if (wanted("quiet")) quietFigures(report);
if (wanted("spiky")) spikyFigures(report);
if (wanted("interval")) intervalOf50k();
if (wanted("interval")) await intervalOverBytes();
if (wanted("interval")) historyBlockFigures(report);
if (wanted("history")) keptReadFigures(report);
// 1,000,000 series only when asked (VIGIL_BENCH_SHARDS=10000,1000000): its files and history take minutes to make.
if (wanted("shards")) shardFigures(report, (process.env.VIGIL_BENCH_SHARDS ?? "10000,50000,200000").split(",").map(Number));
// A wide outage, every series out for three hours: each hour in a fresh process (VIGIL_BENCH_OUTAGE_SERIES=50000,200000).
if (wanted("outage")) outageFigures(report, (process.env.VIGIL_BENCH_OUTAGE_SERIES ?? "50000").split(",").map(Number));
if (wanted("demo")) demo();
if (wanted("backtest")) backtestMemory();
if (wanted("fuzz")) {
  timestampPatterns();
  await fuzz();
}
if (wanted("records")) await recordLists();
if (wanted("service")) await serviceFigures(report);
if (wanted("spool")) await spoolFigures(report);
if (wanted("api")) await apiFigures(report);
const bench = resolve(process.env.VIGIL_BENCH_DIR ?? "../shared/bench");
if (existsSync(join(bench, "ecommerce/score.mjs"))) {
  if (wanted("ecommerce")) ecommerce(bench);
  if (wanted("feedback")) await feedbackOnEcommerce(bench);
  if (wanted("nab")) nab(bench);
  if (wanted("kpi")) kpi(bench);
} else report("ecommerce, feedback and NAB", `skipped: no benchmark folder at ${bench}`);

const width = Math.max(...figures.map((f) => f[0].length));
console.log(`\n${"figure".padEnd(width)}  ${"value".padStart(14)}  target`);
for (const [name, value, target] of figures) console.log(`${name.padEnd(width)}  ${value.padStart(14)}  ${target}`);
