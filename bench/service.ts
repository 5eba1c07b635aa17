/**
 * The service loop's figures: how long after a file lands its alert reaches a webhook (the
 * file lands once its hour has closed, before the Offset, so the watcher wakes detection),
 * and how long a start takes to catch up a day of missed PT1H hours, on the demo's shop.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { DateTime } from "luxon";
import type { AddressInfo } from "node:net";
import { alertMessage } from "../shared/alerts/message.ts";
import { createAlert, createDetector, listMetricSets, listDetectors, OPERATOR, updateMetricSet, type Scope } from "../shared/app/index.ts";
import type { Alert } from "../shared/model/alert.ts";
import { localServices } from "../shared/runtime/local.ts";
import { ServiceLoop } from "../shared/runtime/service/loop.ts";
import { LocalDeliverySpool } from "../shared/store/local-spool.ts";
import { LocalDeadLetters } from "../shared/store/local-dead-letters.ts";
import type { ParkedDelivery } from "../shared/alerts/delivery.ts";
import { alertOfAccount, anomalyGroupEvent } from "../test/builders.ts";
import { generateShop, toCsv, type Incident } from "../shared/demo/shop.ts";
import { joinUri } from "../shared/model/path-template.ts";
import { ServeConfig } from "../shared/runtime/service/config.ts";
import { openService } from "../shared/runtime/service/index.ts";
import { LocalBlobStore } from "../shared/store/local-blobs.ts";
import { DEMO_LIVE_START, LIVE_HOURS, runDemo } from "../cli/demo.ts";
import { ManualClock, quietObserver, settled } from "../test/clock.ts";

const HOUR = 3_600_000;
const END = DEMO_LIVE_START + LIVE_HOURS * HOUR;
/** The middle of `xs` once sorted (the upper middle of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function demoDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-service-"));
  await runDemo(dir, () => {});
  return join(dir, "demo");
}

function hourFile(root: string, t: number, incidents: Incident[]): [string, string] {
  const day = DateTime.fromMillis(t, { zone: "UTC" });
  return [joinUri(root, "files", "live", day.toFormat("yyyyMMdd"), day.toFormat("HHmm"), `shop_${day.toFormat("yyyyMMdd_HHmmss")}.csv`), toCsv(generateShop({ start: t, hours: 1, incidents, seed: t / HOUR }))];
}

export async function serviceFigures(report: (name: string, value: string, target?: string) => void): Promise<void> {
  report("service bench: load average at start (1 min, 2 cores)", loadavg()[0]!.toFixed(1));
  const files = new LocalBlobStore();

  // File landing → alert at a local webhook, five incidents three hours apart.
  {
    const root = await demoDir();
    const received: number[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => (received.push(performance.now()), res.end("ok")));
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const address = receiver.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const clock = new ManualClock(END + 10_000);
    const service = await openService(ServeConfig.parse({ dataDir: root }), { clock, observer: quietObserver() });
    const s = service.services;
    const detector = (await listDetectors(s, OPERATOR))[0]!;
    const metricSet = (await listMetricSets(s, OPERATOR, detector.AnomalyDetectorArn))[0]!;
    // An Offset, so the timer would wait ten minutes: the landing file is what wakes detection.
    await updateMetricSet(s, OPERATOR, { MetricSetArn: metricSet.MetricSetArn, Offset: 600 });
    await createAlert(s, OPERATOR, { AlertName: "bench-hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 70, Action: { WebhookConfiguration: { Url: url } } });
    await settled(service.loop, clock);
    const incidents: Incident[] = Array.from({ length: 5 }, (_, k) => ({ title: "outage", start: END + 3 * k * HOUR, hours: 1, cause: { marketplace: "us" }, measure: "views", factor: 0.1 }));
    const latencies: number[] = [];
    for (let h = 0; h < 15; h++) {
      const t = END + h * HOUR;
      clock.set(t + HOUR + 10_000);
      await settled(service.loop, clock);
      const before = received.length;
      const [path, body] = hourFile(root, t, incidents);
      const landed = performance.now();
      await files.put(path, body);
      if (h % 3 !== 0) {
        for (let i = 0; i < 2_000 && !(await service.services.records.get("executions", `000000000000/shop/orders/${t}`).then((e) => (e as { Status?: string } | undefined)?.Status === "COMPLETED")); i++) await new Promise((r) => setTimeout(r, 10));
        await settled(service.loop, clock);
        continue;
      }
      for (let i = 0; i < 3_000 && received.length === before; i++) await new Promise((r) => setTimeout(r, 5));
      if (received.length > before) latencies.push(received[before]! - landed);
      await settled(service.loop, clock);
    }
    await service.stop(5_000);
    receiver.close();
    rmSync(join(root, ".."), { recursive: true, force: true });
    report(`service: file landing → alert at a local webhook, median of the ${latencies.length} of 5 incidents alerted (ms)`, latencies.length ? String(Math.round(median(latencies))) : "no alert");
    report("service: file landing → alert, slowest (ms)", latencies.length ? String(Math.round(Math.max(...latencies))) : "-");
  }

  // A day of missed hours: the demo stopped 24 hours ago; the files are there.
  {
    const root = await demoDir();
    for (let h = 0; h < 24; h++) {
      const [path, body] = hourFile(root, END + h * HOUR, []);
      await files.put(path, body);
    }
    const clock = new ManualClock(END + 24 * HOUR + 1_000);
    const start = performance.now();
    const service = await openService(ServeConfig.parse({ dataDir: root }), { clock, observer: quietObserver() });
    await settled(service.loop, clock);
    const ms = performance.now() - start;
    const runs = (await service.services.records.list<{ Timestamp: string; Status: string }>("executions", "000000000000/shop/orders/")).filter((e) => Date.parse(e.Timestamp) >= END && e.Status === "COMPLETED").length;
    await service.stop(5_000);
    rmSync(join(root, ".."), { recursive: true, force: true });
    report(`service: catch-up of a day of missed PT1H hours (${runs} run) on the demo's shop, start to settled (s)`, (ms / 1000).toFixed(2));
  }
}

const TEAM_A: Scope = { tenant: "team-a", accountId: "111111111111" };
const TEAM_B: Scope = { tenant: "team-b", accountId: "222222222222" };

/**
 * The spool's sends: 2,000 queued deliveries to a local webhook, start to sent; then 500 of
 * one tenant's to a receiver that never answers, and another tenant's one alert queued after
 * them: how long it waits.
 */
export async function spoolFigures(report: (name: string, value: string, target?: string) => void): Promise<void> {
  const arrived: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      arrived.push(req.url ?? "");
      if (req.url !== "/hang") res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const setUp = async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-bench-spool-"));
    const spool = new LocalDeliverySpool(join(dir, "queue"));
    const services = localServices(join(dir, "data"), { clock: () => DEMO_LIVE_START, observer: quietObserver(), deliveryQueue: spool, privateTargets: () => true });
    const alertOf = async (scope: Scope, path: string) => {
      const detector = await createDetector(services, scope, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
      return createAlert(services, scope, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: `${url}${path}` } } });
    };
    const loop = new ServiceLoop({ services, clock: new ManualClock(DEMO_LIVE_START), spool });
    return { dir, spool, alertOf, loop };
  };
  const deliveriesOf = (alert: Alert, n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => {
      const message = alertMessage(alert, anomalyGroupEvent({ groupId: `4f1c2d3e-${tag}-4bbb-8ccc-${String(i).padStart(12, "0")}` }), "first", "http://localhost:8087");
      return { deliveryId: message.deliveryId, alertArn: alert.AlertArn, message };
    });
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise((r) => setTimeout(r, 2));
  };
  try {
    {
      const { dir, spool, alertOf, loop } = await setUp();
      const n = 2_000;
      await spool.enqueue(deliveriesOf(await alertOf(TEAM_A, "/a"), n, "aaaa"));
      const start = performance.now();
      await loop.start();
      await until(() => arrived.length >= n);
      const ms = performance.now() - start;
      await until(() => loop.deliveriesIdle);
      await loop.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
      report(`service: ${n} queued deliveries to a local webhook, sent (deliveries/s)`, String(Math.round(n / (ms / 1000))));
    }
    arrived.length = 0;
    {
      const { dir, spool, alertOf, loop } = await setUp();
      await spool.enqueue(deliveriesOf(await alertOf(TEAM_A, "/hang"), 500, "aaaa"));
      await spool.enqueue(deliveriesOf(await alertOf(TEAM_B, "/b"), 1, "bbbb"));
      const start = performance.now();
      await loop.start();
      await until(() => arrived.includes("/b"));
      const ms = performance.now() - start;
      server.closeAllConnections();
      await loop.stop(100);
      rmSync(dir, { recursive: true, force: true });
      report("service: one tenant's alert queued behind another's 500 to a webhook that never answers, start to sent (ms)", String(Math.round(ms)));
    }
    {
      // Dead letters: one tenant's 20 parked among 10 other accounts' 2,000 each, half of them settled.
      const dir = mkdtempSync(join(tmpdir(), "vigil-bench-dead-"));
      const dead = new LocalDeadLetters(join(dir, "dead-letters"));
      mkdirSync(join(dir, "dead-letters"));
      const parkedOf = (account: string, n: number, tag: string): ParkedDelivery[] =>
        deliveriesOf(alertOfAccount(account), n, tag).map((delivery) => ({ delivery, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: DEMO_LIVE_START }));
      const line = (o: unknown) => `${JSON.stringify(o)}\n`;
      const tenant = "111111111111";
      appendFileSync(dead.fileOf(tenant), parkedOf(tenant, 20, "aaaa").map(line).join(""));
      for (let k = 0; k < 10; k++) {
        const account = String(200_000_000_000 + k);
        const all = parkedOf(account, 2_000, `b${String(k).padStart(3, "0")}`);
        appendFileSync(dead.fileOf(account), all.map(line).join("") + all.slice(0, 1_000).map((p) => line({ settled: { deliveryId: p.delivery.deliveryId, parkedAt: p.parkedAt } })).join(""));
      }
      const bytes = () => readdirSync(join(dir, "dead-letters")).reduce((sum, n) => sum + statSync(join(dir, "dead-letters", n)).size, 0);
      const before = bytes();
      const cpu = process.cpuUsage();
      const tenantReplay = await dead.drain(async () => false, { account: tenant });
      const { user, system } = process.cpuUsage(cpu);
      if (tenantReplay.remaining !== 20) throw new Error("dead letters: the tenant's replay did not find its 20");
      report(`dead letters: a tenant's replay of its 20 parked, ${fmtMb(before)} MB of other accounts' lines beside them (CPU ms)`, String(Math.round((user + system) / 1000)));
      await dead.drain(async (p) => !p.delivery.alertArn.includes(tenant));
      report(`dead letters: the folder after a replay settled every other account's (${fmtMb(before)} MB before; MB)`, fmtMb(bytes()), "the tenant's 20 lines");
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const fmtMb = (bytes: number) => (bytes / 1e6).toFixed(2);
