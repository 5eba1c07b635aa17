import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { activateDetector, createAlert, createDetector, createMetricSet, detectDue, executions, listDetectors, OPERATOR } from "../../shared/app/index.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { metricSetRoot } from "../../shared/detect/results.ts";
import { readModel } from "../../shared/detect/shard-model.ts";
import { csvOf, HOUR, localAt, shopPoints, T0, tempDir, type ShopPoint } from "../builders.ts";
import { HttpReceiver } from "../receivers/http-receiver.ts";

/**
 * `vigil serve` as a process, on a simulated clock (--clock-start, --clock-rate): killed
 * with SIGKILL in the middle of its hours and started again, it processes each missed
 * hour once and the receiver gets each alert once; SIGTERM drains and exits 0.
 */
const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;
const HOURS = 12;
const DIPS = [LIVE + 3 * HOUR, LIVE + 4 * HOUR, LIVE + 8 * HOUR];
const dip = (p: ShopPoint): ShopPoint => (DIPS.includes(p.t) && p.marketplace === "de" ? { ...p, views: Math.round(Number(p.views) * 0.1) } : p);
const folderOf = (t: number) => `${new Date(t).toISOString().slice(0, 10).replaceAll("-", "")}/${new Date(t).toISOString().slice(11, 16).replace(":", "")}`;

interface Served {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

/** Every process started, for the report of a wait that gave up. */
const all: Served[] = [];

function serveProcess(dataDir: string, clockStart: number, rate: number): Served {
  const child = spawn(process.execPath, ["bin/vigil.mjs", "serve", "--data-dir", dataDir, "--data-root", join(dataDir, "..", "files"), "--port", "0", "--clock-start", new Date(clockStart).toISOString(), "--clock-rate", String(rate)], { stdio: ["ignore", "pipe", "pipe"] });
  const served: Served = { child, stdout: "", stderr: "", exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))) };
  child.stdout!.on("data", (c: Buffer) => (served.stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (served.stderr += c.toString()));
  all.push(served);
  onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")));
  return served;
}

/** Polls `check` until it holds (at most `rounds` × 50 ms). */
async function until(check: () => Promise<boolean> | boolean, what: string, rounds = 500): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting: ${what}\n${all.map((s) => `stderr: ${s.stderr}\nstdout (end): ${s.stdout.slice(-4000)}`).join("\n")}`);
}

const logLines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function shopDir() {
  const dir = await tempDir();
  const receiver = await HttpReceiver.start();
  onTestFinished(() => receiver.stop());
  await mkdir(join(dir, "files", "history"), { recursive: true });
  await writeFile(join(dir, "files", "history", "h.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
  for (let h = 0; h < HOURS; h++) {
    const t = LIVE + h * HOUR;
    await mkdir(join(dir, "files", "live", folderOf(t)), { recursive: true });
    await writeFile(join(dir, "files", "live", folderOf(t), "rows.csv"), csvOf(shopPoints(t, 1, SERIES, dip)));
  }
  const data = join(dir, "data");
  const s = localAt(data, () => LIVE);
  const detector = await createDetector(s, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = await createMetricSet(s, OPERATOR, {
    AnomalyDetectorArn: detector.AnomalyDetectorArn,
    MetricSetName: "orders",
    MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }],
    DimensionList: ["platform", "marketplace"],
    TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
    MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "files", "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "files", "history")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } },
  });
  await createAlert(s, OPERATOR, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 50, Action: { WebhookConfiguration: { Url: receiver.url } } });
  await activateDetector(s, OPERATOR, detector.AnomalyDetectorArn);
  const liveRuns = async () => (await executions(localAt(data, () => LIVE), OPERATOR, detector.AnomalyDetectorArn)).filter((e) => (e.Status === "COMPLETED" || e.Status === "FAILED") && Date.parse(e.Timestamp) >= LIVE);
  // The last hour the metric set's committed model has learned.
  const committedThrough = async () => (await readModel(s.blobs, metricSetRoot(s.resultsRoot, metricSet)))!.head.through;
  return { data, receiver, liveRuns, committedThrough };
}

describe("vigil serve as a process", () => {
  it("killed with SIGKILL mid-run and started again: each missed hour is processed once, oldest first, and each alert reaches the webhook once", async () => {
    const { data, receiver, liveRuns, committedThrough } = await shopDir();
    // Two simulated hours a real second, from the first live hour.
    const first = serveProcess(data, LIVE, 7_200);
    await until(async () => (await liveRuns()).length >= 3, "the first hours");
    first.child.kill("SIGKILL");
    await first.exited;
    const before = await liveRuns();
    expect(before.length).toBeLessThan(HOURS);
    // Whether or not the kill fell inside an hour's run, leave what one would: the lease of the hour after the committed model's held by the dead process.
    // (A kill between an hour's record and its commit leaves the hour recorded but not committed: it is run again.)
    const next = (await committedThrough()) + HOUR;
    await localAt(data, () => LIVE).records.claim(`000000000000/shop/orders/${next}`, next + 10 * 365 * 24 * HOUR, next);

    // Started again after every hour has closed; its clock then barely moves.
    const second = serveProcess(data, LIVE + HOURS * HOUR + 60_000, 1);
    // Bounded waits, not timings: on a loaded machine the missed hours took longer than the default 25 s.
    await until(async () => (await liveRuns()).length === HOURS, "the missed hours", 2_000);
    await until(async () => !existsSync(join(data, "queue", "deliveries")) || (await readdir(join(data, "queue", "deliveries"))).filter((n) => n.endsWith(".json")).length === 0, "the queued deliveries");
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    const lines = [...logLines(first.stdout), ...logLines(second.stdout)];
    const processed = lines.filter((l) => l["message"] === "interval processed").map((l) => String(l["intervalId"]));
    const liveIds = processed.filter((id) => Date.parse(id.split("@")[1]!) >= LIVE);
    const idOf = (t: number) => `arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders@${new Date(t).toISOString()}`;
    // Each hour processed once: none logged twice, and each logged, or recorded by the first
    // process before its kill (a SIGKILL may fall between an hour's commit and its log line).
    expect(new Set(liveIds).size).toBe(liveIds.length);
    const recordedBefore = new Set(before.map((e) => idOf(Date.parse(e.Timestamp))));
    expect(Array.from({ length: HOURS }, (_, h) => idOf(LIVE + h * HOUR)).filter((id) => !liveIds.includes(id) && !recordedBefore.has(id))).toEqual([]);
    // The second run went on from where the first stopped, oldest first.
    const secondIds = logLines(second.stdout).filter((l) => l["message"] === "interval processed").map((l) => Date.parse(String(l["intervalId"]).split("@")[1]!));
    expect(secondIds).toEqual([...secondIds].sort((a, b) => a - b));
    expect(secondIds[0]).toBe(next);
    expect(second.stdout + second.stderr).toMatch(/released 1 interval lease/);

    const received = receiver.requests.map((r) => (JSON.parse(r.body) as { deliveryId: string }).deliveryId);
    const enqueued = new Set(lines.filter((l) => l["message"] === "anomaly group event routed").flatMap((l) => (l["verdicts"] as { outcome: string; deliveryId?: string }[]).flatMap((v) => (v.deliveryId ? [v.deliveryId] : []))));
    expect(received.length).toBeGreaterThan(0);
    expect(new Set(received).size).toBe(received.length);
    expect(new Set(received)).toEqual(enqueued);
  }, 150_000);

  it("drains on SIGTERM and exits 0, letting the data directory go", async () => {
    const { data } = await shopDir();
    const served = serveProcess(data, LIVE, 1);
    await until(() => /L4M's API at/.test(served.stderr), "the server to start");
    expect(existsSync(join(data, "state", "serve.lock"))).toBe(true);
    served.child.kill("SIGTERM");
    expect(await served.exited).toBe(0);
    expect(served.stderr).toMatch(/SIGTERM: draining/);
    expect(served.stderr).toMatch(/stopped \(work under way finished\)/);
    expect(existsSync(join(data, "state", "serve.lock"))).toBe(false);
  });

  it("vigil demo --serve keeps the demo's detector running live on a simulated clock, and its alerts arrive", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["bin/vigil.mjs", "demo", "--data-dir", dir, "--serve", "--port", "0", "--rate", "36000"], { stdio: ["ignore", "pipe", "pipe"] });
    const served: Served = { child, stdout: "", stderr: "", exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))) };
    child.stdout!.on("data", (c: Buffer) => (served.stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (served.stderr += c.toString()));
    all.push(served);
    onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")));
    const live = () => served.stdout.slice(served.stdout.indexOf("now runs live"));
    // Under load an hour's detection may print after the next file's "begins" line: the lines are not asked to be adjacent.
    const alerted = () => /begins in the shop's data\)[\s\S]*\n2021-03-\d\d \d\d:00 UTC: 21 rows, [1-9]\d* anomal[a-z]+ — [\s\S]*\n {2}ALERT sent: shop-severe\//.test(live());
    await until(() => /now runs live/.test(served.stdout) && alerted(), "a live alert", 2400);
    child.kill("SIGTERM");
    expect(await served.exited).toBe(0);
    // Stopped, it leaves its detector deactivated: served again on the real clock, it does not look for the hours since March 2021.
    const after = localServices(join(dir, "demo"));
    expect((await listDetectors(after, OPERATOR)).map((d) => d.Status)).toEqual(["DEACTIVATED"]);
    expect(await detectDue(after, Date.now())).toEqual([]);
  }, 150_000);
});
