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

/** One signed ListAnomalyGroupSummaries request: its headers and body. */
export async function signedList(url: URL, detectorArn: string): Promise<{ headers: Record<string, string>; body: string }> {
  const body = JSON.stringify({ AnomalyDetectorArn: detectorArn, SensitivityThreshold: 50, MaxResults: 100 });
  const signer = new SignatureV4({ credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, region: "us-east-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
  const signed = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: "/ListAnomalyGroupSummaries", headers: { host: url.host, "content-type": "application/json" }, body }));
  return { headers: signed.headers, body };
}

/** One request over `agent`: its status and body (the load loop reads neither further, so the clients' CPU goes to HTTP alone). */
export function send(url: URL, agent: Agent, signed: { headers: Record<string, string>; body: string }): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: "/ListAnomalyGroupSummaries", method: "POST", headers: signed.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(signed.body);
  });
}

export async function apiFigures(report: (name: string, value: string, target?: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-api-"));
  const dataDir = join(dir, "vigil");
  const detectorArn = await seeded(dataDir);
  const server = await startVigilServe(dataDir);
  try {
    const url = new URL(server.url);
    const signed = await signedList(url, detectorArn);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const check = await send(url, agent, signed);
    const listed = (JSON.parse(check.body.toString("utf8")) as { AnomalyGroupSummaryList?: unknown[] }).AnomalyGroupSummaryList?.length;
    if (check.status !== 200 || listed !== 100) throw new Error(`ListAnomalyGroupSummaries answered ${check.status} with ${listed} groups`);
    report("api bench: load average at start (1 min, 2 cores)", loadavg()[0]!.toFixed(1));

    const latencies: number[] = [];
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let n = 0; n < PER_CLIENT; n++) {
          const t = performance.now();
          const { status } = await send(url, agent, signed);
          if (status !== 200) throw new Error(`ListAnomalyGroupSummaries answered ${status}`);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    agent.destroy();
    report(`api: ListAnomalyGroupSummaries over ${GROUPS.toLocaleString("en-US")} groups, ${CLIENTS} clients, vigil serve, per second`, (latencies.length / seconds).toFixed(0), "≥ 1,000");
    report(`api: ListAnomalyGroupSummaries over ${GROUPS.toLocaleString("en-US")} groups, ${CLIENTS} clients, p99 ms`, latencies[Math.ceil(latencies.length * 0.99) - 1]!.toFixed(1), "< 50");
  } finally {
    // Drained as an operator stops it (and so a --cpu-prof given in NODE_OPTIONS is written).
    const exited = once(server.child, "exit");
    server.child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
