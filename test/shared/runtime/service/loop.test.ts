import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { activateDetector, backTestDetector, createAlert, createDetector, createMetricSet, describeDetector, executions, listGroupSummaries, OPERATOR, type Services } from "../../../../shared/app/index.ts";
import { resourceKey } from "../../../../shared/model/ids.ts";
import { localServices } from "../../../../shared/runtime/local.ts";
import { ServiceLoop } from "../../../../shared/runtime/service/loop.ts";
import { LocalDeliverySpool } from "../../../../shared/store/local-spool.ts";
import { openService, type RunningService } from "../../../../shared/runtime/service/index.ts";
import { ServeConfig } from "../../../../shared/runtime/service/config.ts";
import { csvOf, HOUR, shopPoints, T0, tempDir, type ShopPoint } from "../../../builders.ts";
import { ManualClock, quietObserver, settled } from "../../../clock.ts";
import { HttpReceiver } from "../../../receivers/http-receiver.ts";

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;
const OFFSET_S = 600;
const DIP = [LIVE + 5 * HOUR, LIVE + 6 * HOUR];
const dip = (p: ShopPoint): ShopPoint => (DIP.includes(p.t) && p.marketplace === "de" ? { ...p, views: Math.round(Number(p.views) * 0.1) } : p);
const folderOf = (t: number) => `${new Date(t).toISOString().slice(0, 10).replaceAll("-", "")}/${new Date(t).toISOString().slice(11, 16).replace(":", "")}`;

/** The shop's metric set, `orders` (views by platform and marketplace), of detector `arn`, over CSV files with a header at `source`. */
const ordersOf = (arn: string, source: { HistoricalDataPathList?: string[]; TemplatedPathList?: string[] }, offsetS?: number) => ({
  AnomalyDetectorArn: arn,
  MetricSetName: "orders",
  ...(offsetS === undefined ? {} : { Offset: offsetS }),
  MetricList: [{ MetricName: "views", AggregationFunction: "SUM" as const }],
  DimensionList: ["platform", "marketplace"],
  TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
  MetricSource: { S3SourceConfig: { ...source, FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } },
});

/** Two weeks of the shop's history in `folder`. */
async function historyIn(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, "h.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
}

/** A shop's detector with two weeks of history, an hourly template with a 10-minute Offset, and a webhook alert to a real local receiver. */
async function shop(options: { watch?: boolean } = {}) {
  const dir = await tempDir();
  const receiver = await HttpReceiver.start();
  afterEach(() => receiver.stop());
  await historyIn(join(dir, "files", "history"));
  const clock = new ManualClock(LIVE);
  const service = await openService(ServeConfig.parse({ dataDir: join(dir, "data") }), { clock, observer: quietObserver(), watch: options.watch ?? false, settings: { policy: { maxAttempts: 3, baseMs: 1, capMs: 5, maxRetryAfterMs: 10 } } });
  afterEach(() => service.stop(5_000));
  const s = service.services;
  const detector = await createDetector(s, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  await createMetricSet(s, OPERATOR, ordersOf(detector.AnomalyDetectorArn, { TemplatedPathList: [join(dir, "files", "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "files", "history")] }, OFFSET_S));
  await createAlert(s, OPERATOR, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 50, Action: { WebhookConfiguration: { Url: receiver.url } } });
  const writeHour = async (t: number) => {
    await mkdir(join(dir, "files", "live", folderOf(t)), { recursive: true });
    await writeFile(join(dir, "files", "live", folderOf(t), "rows.csv"), csvOf(shopPoints(t, 1, SERIES, dip)));
  };
  return { dir, receiver, clock, service, services: s, arn: detector.AnomalyDetectorArn, writeHour };
}

const deliveryIds = (receiver: HttpReceiver) => receiver.requests.map((r) => (JSON.parse(r.body) as { deliveryId: string }).deliveryId);
const ran = async (service: RunningService, arn: string) => (await executions(service.services, OPERATOR, arn)).filter((e) => e.Status === "COMPLETED" || e.Status === "FAILED");

describe("the service loop, on an injected clock", () => {
  it("activates, then detects each hour at its end plus the Offset, and the group's alert reaches the webhook once", async () => {
    const { clock, service, services, arn, receiver, writeHour } = await shop();
    await activateDetector(services, OPERATOR, arn);
    expect((await describeDetector(services, OPERATOR, arn)).Status).toBe("ACTIVATING");
    await settled(service.loop, clock);
    // Two weeks of hourly history is past the engine's warm-up: ACTIVE, not LEARNING.
    expect((await describeDetector(services, OPERATOR, arn)).Status).toBe("ACTIVE");

    for (let h = 0; h < 9; h++) {
      const start = LIVE + h * HOUR;
      await writeHour(start);
      const due = start + HOUR + OFFSET_S * 1000;
      clock.set(due - 1_000);
      await settled(service.loop, clock);
      expect((await ran(service, arn)).map((e) => e.Timestamp), `hour ${h} before its Offset`).not.toContain(new Date(start).toISOString());
      expect(service.loop.sleepingUntil).toBe(due);
      clock.set(due);
      await settled(service.loop, clock);
      const run = (await ran(service, arn)).find((e) => e.Timestamp === new Date(start).toISOString());
      expect(run?.Status, `hour ${h} at its end plus Offset`).toBe("COMPLETED");
    }
    expect((await ran(service, arn)).filter((e) => Date.parse(e.Timestamp) >= LIVE)).toHaveLength(9);

    const { groups } = await listGroupSummaries(services, OPERATOR, arn, 50, { limit: 100 });
    expect(groups.map((g) => g.StartTime)).toContain(new Date(DIP[0]!).toISOString().replace(".000", ""));
    const ids = deliveryIds(receiver);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("runs an hour as soon as its file lands after the hour closed, before the Offset", async () => {
    const { clock, service, services, arn, writeHour } = await shop({ watch: true });
    await activateDetector(services, OPERATOR, arn);
    await settled(service.loop, clock);
    clock.set(LIVE + HOUR + 60_000);
    await settled(service.loop, clock);
    await writeHour(LIVE);
    let run;
    for (let i = 0; i < 500 && !run; i++) {
      await new Promise((r) => setTimeout(r, 20));
      run = (await ran(service, arn)).find((e) => e.Timestamp === new Date(LIVE).toISOString());
    }
    expect(run?.Status).toBe("COMPLETED");
    expect(clock.now()).toBeLessThan(LIVE + HOUR + OFFSET_S * 1000);
  });

  it("drains on stop: nothing new starts, and the next start catches up every missed hour once, oldest first", async () => {
    const { clock, service, services, arn, writeHour, dir, receiver } = await shop();
    await activateDetector(services, OPERATOR, arn);
    await settled(service.loop, clock);
    expect(await service.stop(5_000)).toBe("drained");
    expect(service.loop.ready).toBe(false);
    for (let h = 0; h < 9; h++) await writeHour(LIVE + h * HOUR);
    const later = new ManualClock(LIVE + 9 * HOUR + OFFSET_S * 1000);
    const again = await openService(ServeConfig.parse({ dataDir: join(dir, "data") }), { clock: later, observer: quietObserver(), watch: false });
    afterEach(() => again.stop(5_000));
    await settled(again.loop, later);
    const runs = (await ran(again, arn)).filter((e) => Date.parse(e.Timestamp) >= LIVE);
    expect(runs.map((e) => e.Timestamp).sort()).toEqual(Array.from({ length: 9 }, (_, h) => new Date(LIVE + h * HOUR).toISOString()));
    expect(runs.every((e) => e.Status === "COMPLETED")).toBe(true);
    const ids = deliveryIds(receiver);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("runs a back-test beside the ticks: one that waits on its files holds up no detection, and completes once they come", async () => {
    const dir = await tempDir();
    const clock = new ManualClock(LIVE);
    const spool = new LocalDeliverySpool(join(dir, "data", "queue", "deliveries"));
    let loop: ServiceLoop | undefined;
    const base = localServices(join(dir, "data"), { clock: clock.now, observer: quietObserver(), deliveryQueue: spool, wake: () => loop?.wake() });
    // The back-test's files are slow to list (a large bucket): they come when the test says.
    let filesCome = () => {};
    const slow = new Promise<void>((resolve) => (filesCome = resolve));
    const dataFiles: Services["dataFiles"] = (grant) => {
      const files = base.dataFiles(grant);
      return { ...files, list: async (prefix) => (prefix.includes("backtested") ? slow.then(() => files.list(prefix)) : files.list(prefix)) };
    };
    const services: Services = { ...base, dataFiles };
    const history = (name: string) => join(dir, "files", name);
    for (const name of ["live-history", "backtested"]) await historyIn(history(name));
    const metricSetOf = (arn: string, name: string) => ordersOf(arn, { HistoricalDataPathList: [history(name)] });
    const live = await createDetector(services, OPERATOR, { AnomalyDetectorName: "live", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(services, OPERATOR, metricSetOf(live.AnomalyDetectorArn, "live-history"));
    const trial = await createDetector(services, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(services, OPERATOR, metricSetOf(trial.AnomalyDetectorArn, "backtested"));
    await backTestDetector(services, OPERATOR, trial.AnomalyDetectorArn);
    loop = new ServiceLoop({ services, clock, spool });
    await loop.start();
    afterEach(() => loop!.stop(5_000));
    // The live detector is activated, learns its history and runs its first interval while the back-test waits.
    await activateDetector(services, OPERATOR, live.AnomalyDetectorArn);
    let status = (await describeDetector(services, OPERATOR, live.AnomalyDetectorArn)).Status;
    for (let i = 0; i < 500 && status !== "ACTIVE"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await describeDetector(services, OPERATOR, live.AnomalyDetectorArn)).Status;
    }
    expect(status).toBe("ACTIVE");
    expect((await describeDetector(services, OPERATOR, trial.AnomalyDetectorArn)).Status).toBe("BACK_TEST_ACTIVE");
    filesCome();
    await settled(loop, clock);
    expect((await describeDetector(services, OPERATOR, trial.AnomalyDetectorArn)).Status).toBe("BACK_TEST_COMPLETE");
  });

  it("releases at its start the back-test lease a stopped process left held: the back-test runs again at once", async () => {
    const dir = await tempDir();
    await historyIn(join(dir, "files", "history"));
    const before = localServices(join(dir, "data"), { clock: () => LIVE });
    const trial = await createDetector(before, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(before, OPERATOR, ordersOf(trial.AnomalyDetectorArn, { HistoricalDataPathList: [join(dir, "files", "history")] }));
    await backTestDetector(before, OPERATOR, trial.AnomalyDetectorArn);
    // A process that ran it stopped mid-way: its lease is held for another quarter of an hour.
    await before.records.put("leases", `backtest/${resourceKey(trial.AnomalyDetectorArn)}`, { until: Date.now() + 15 * 60_000 });
    const clock = new ManualClock(LIVE);
    const service = await openService(ServeConfig.parse({ dataDir: join(dir, "data") }), { clock, observer: quietObserver(), watch: false });
    afterEach(() => service.stop(5_000));
    await settled(service.loop, clock);
    expect((await describeDetector(service.services, OPERATOR, trial.AnomalyDetectorArn)).Status).toBe("BACK_TEST_COMPLETE");
  });
});
