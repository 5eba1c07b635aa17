/**
 * The API at scale, as a client meets it: `vigil serve` in a process of its own over 10,000
 * anomaly groups of one detector, and 20 clients calling ListAnomalyGroupSummaries (the 100
 * most severe at sensitivity 50, with L4M's statistics) over keep-alive connections.
 * One request is signed once and sent again and again, as a retrying client would within the
 * signature's five minutes, so the clients spend their CPU on HTTP alone, not on signing.
 */
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY } from "../cli/serve.ts";
import { createDetector, createMetricSet, OPERATOR } from "../shared/app/index.ts";
import { groupKey } from "../shared/app/detect.ts";
import { localServices } from "../shared/runtime/local.ts";
import { metricSetRequest } from "../test/builders.ts";
import { startVigilServe } from "../test/security/wire.ts";
import { benchGroup } from "./groups.ts";

const GROUPS = 10_000;
const CLIENTS = 20;
const PER_CLIENT = 250;

/** A data directory whose default tenant has one detector with GROUPS anomaly groups. */
export async function seeded(dataDir: string): Promise<string> {
  const services = localServices(dataDir);
  const files = join(dataDir, "files", "orders");
  mkdirSync(files, { recursive: true });
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "bench", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  // The shop's metric set (views and revenue by platform × marketplace), as the groups of benchGroup are.
  const metricSet = await createMetricSet(services, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(files, "{{yyyyMMdd}}", "{{HHmm}}")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } } }));
  const owner = { detector: detector.AnomalyDetectorArn, metricSet: metricSet.MetricSetArn };
  for (let i = 0; i < GROUPS; i++) {
    const group = benchGroup(i, owner);
    await services.records.put("groups", groupKey(metricSet, group.AnomalyGroupId), group);
  }
  return detector.AnomalyDetectorArn;
}

/** A metric set that takes pushed rows (HttpPushConfig), of a detector of its own. */
async function pushedMetricSet(dataDir: string): Promise<string> {
  const services = localServices(dataDir);
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "bench-push", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = await createMetricSet(services, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "pushed", MetricSource: { HttpPushConfig: {} } }));
  return metricSet.MetricSetArn;
}

/** One signed PutMetricRows request of one row: sent again and again, each is a request of its own (its id the server's). */
const signedPush = (url: URL, metricSetArn: string, row: Record<string, unknown>): Promise<Signed> => signed(url, "PutMetricRows", { MetricSetArn: metricSetArn, Rows: [row] });

/** A signed request: its operation, headers and body. */
interface Signed {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One signed request of `operation`. */
async function signed(url: URL, operation: string, input: unknown): Promise<Signed> {
  const body = JSON.stringify(input);
  const signer = new SignatureV4({ credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, region: "us-east-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
  const path = `/${operation}`;
  const done = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: url.hostname, port: Number(url.port), path, headers: { host: url.host, "content-type": "application/json" }, body }));
  return { path, headers: done.headers, body };
}

/** One signed ListAnomalyGroupSummaries request. */
export const signedList = (url: URL, detectorArn: string): Promise<Signed> => signed(url, "ListAnomalyGroupSummaries", { AnomalyDetectorArn: detectorArn, SensitivityThreshold: 50, MaxResults: 100 });

/** One request over `agent`: its status and body (the load loop reads neither further, so the clients' CPU goes to HTTP alone). */
export function send(url: URL, agent: Agent, signed: Signed): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: signed.path, method: "POST", headers: signed.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(signed.body);
  });
}

/** CLIENTS clients sending `request` PER_CLIENT times each over keep-alive connections: requests a second and the latencies, sorted. */
async function load(url: URL, request: Signed, expect: (status: number, body: Buffer) => void): Promise<{ perSecond: number; latencies: number[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let n = 0; n < PER_CLIENT; n++) {
        const t = performance.now();
        const { status, body } = await send(url, agent, request);
        expect(status, body);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { perSecond: latencies.length / seconds, latencies: latencies.sort((a, b) => a - b) };
}

const p99 = (sorted: readonly number[]) => sorted[Math.ceil(sorted.length * 0.99) - 1]!;

export async function apiFigures(report: (name: string, value: string, target?: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-api-"));
  const dataDir = join(dir, "vigil");
  const detectorArn = await seeded(dataDir);
  const pushed = await pushedMetricSet(dataDir);
  const server = await startVigilServe(dataDir);
  try {
    const url = new URL(server.url);
    const list = await signedList(url, detectorArn);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const check = await send(url, agent, list);
    const listed = (JSON.parse(check.body.toString("utf8")) as { AnomalyGroupSummaryList?: unknown[] }).AnomalyGroupSummaryList?.length;
    if (check.status !== 200 || listed !== 100) throw new Error(`ListAnomalyGroupSummaries answered ${check.status} with ${listed} groups`);
    report("api bench: load average at start (1 min, 2 cores)", loadavg()[0]!.toFixed(1));

    const listed100 = await load(url, list, (status) => {
      if (status !== 200) throw new Error(`ListAnomalyGroupSummaries answered ${status}`);
    });
    agent.destroy();
    report(`api: ListAnomalyGroupSummaries over ${GROUPS.toLocaleString("en-US")} groups, ${CLIENTS} clients, vigil serve, per second`, listed100.perSecond.toFixed(0), "≥ 1,000");
    report(`api: ListAnomalyGroupSummaries over ${GROUPS.toLocaleString("en-US")} groups, ${CLIENTS} clients, p99 ms`, p99(listed100.latencies).toFixed(1), "< 50");
    // Hosts pushing their row for the open hour at once: each request holds the interval, judges it, writes its own file and says so (shared/app/push.ts).
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const row = { timestamp: new Date(hour + 60_000).toISOString().slice(0, 19).replace("T", " "), platform: "pc_web", marketplace: "de", views: 1, revenue: 1 };
    const pushes = await load(url, await signedPush(url, pushed, row), (status, body) => {
      if (status !== 200 || !body.includes('"RowsAccepted":1')) throw new Error(`PutMetricRows answered ${status}: ${body.toString("utf8").slice(0, 200)}`);
    });
    report(`api: PutMetricRows, a row for the open hour each, ${CLIENTS} clients at once, vigil serve, per second`, pushes.perSecond.toFixed(0));
    report(`api: PutMetricRows, the same, p99 ms`, p99(pushes.latencies).toFixed(1));
  } finally {
    // Drained as an operator stops it (and so a --cpu-prof given in NODE_OPTIONS is written).
    const exited = once(server.child, "exit");
    server.child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
