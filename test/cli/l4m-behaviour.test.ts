import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ActivateAnomalyDetectorCommand,
  BackTestAnomalyDetectorCommand,
  CreateAlertCommand,
  CreateAnomalyDetectorCommand,
  CreateMetricSetCommand,
  DescribeAnomalyDetectionExecutionsCommand,
  DescribeAnomalyDetectorCommand,
  GetDataQualityMetricsCommand,
  ListAnomalyGroupSummariesCommand,
  LookoutMetricsClient,
  ServiceQuotaExceededException,
  ValidationException,
  type CreateMetricSetCommandInput,
} from "@aws-sdk/client-lookoutmetrics";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { startServing, type ServingService } from "../../cli/service.ts";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY } from "../../cli/serve.ts";
import { ServeConfig } from "../../shared/runtime/service/config.ts";
import { csvOf, HOUR, shopPoints, T0, tempDir, type ShopPoint } from "../builders.ts";
import { ManualClock, quietObserver, settled } from "../clock.ts";

/**
 * L4M's behaviour where clients depend on it, through the official SDK against `vigil serve`
 * with its service loop running on a clock the test moves: statuses move as L4M's, back-tests
 * run as work apart from the request (and read the continuous path without a history), data
 * quality carries the back-test's spans, quotas answer with their code; /metrics parses.
 */
const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;
const folderOf = (t: number) => `${new Date(t).toISOString().slice(0, 10).replaceAll("-", "")}/${new Date(t).toISOString().slice(11, 16).replace(":", "")}`;
const hourly = { AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" as const } };
const spike = (p: ShopPoint): ShopPoint => (p.marketplace === "fr" && p.t === T0 + 12 * 24 * HOUR + 5 * HOUR ? { ...p, views: Number(p.views) * 4 } : p);

async function running(): Promise<{ dir: string; clock: ManualClock; serving: ServingService; l4m: LookoutMetricsClient; metricSet: (arn: string, name: string, source: Record<string, unknown>) => CreateMetricSetCommandInput }> {
  const dir = await tempDir();
  const clock = new ManualClock(LIVE);
  // The metric files live in a folder granted as the default tenant's data root, apart from Vigil's own data.
  const serving = await startServing(ServeConfig.parse({ dataDir: join(await tempDir(), "data"), dataRoots: { default: [dir] }, port: 0 }), { clock, linkClock: Date.now, observer: quietObserver(), watch: false });
  afterEach(() => serving.stop());
  const l4m = new LookoutMetricsClient({ endpoint: serving.url, region: "us-east-1", credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, maxAttempts: 1 });
  const metricSet = (AnomalyDetectorArn: string, MetricSetName: string, source: Record<string, unknown>): CreateMetricSetCommandInput => ({
    AnomalyDetectorArn,
    MetricSetName,
    MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }],
    DimensionList: ["platform", "marketplace"],
    TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
    MetricSource: { S3SourceConfig: { ...source, FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } },
  });
  return { dir, clock, serving, l4m, metricSet };
}

async function hourlyFiles(root: string, from: number, hours: number, tweak?: (p: ShopPoint) => ShopPoint): Promise<void> {
  for (let h = 0; h < hours; h++) {
    const t = from + h * HOUR;
    await mkdir(join(root, folderOf(t)), { recursive: true });
    await writeFile(join(root, folderOf(t), "rows.csv"), csvOf(shopPoints(t, 1, SERIES, tweak)));
  }
}

describe("L4M's behaviour through @aws-sdk/client-lookoutmetrics, with the service loop running", () => {
  it("Status: ACTIVATING, then ACTIVE with enough history, LEARNING without it until the model has seen enough, FAILED with the reason when the data cannot be read", async () => {
    const { dir, clock, serving, l4m, metricSet } = await running();
    const status = async (arn: string) => l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: arn }));
    await mkdir(join(dir, "history"), { recursive: true });
    await writeFile(join(dir, "history", "h.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
    // 46 hours of history: two short of the hourly model's 48-hour warm-up.
    await hourlyFiles(join(dir, "young"), LIVE - 46 * HOUR, 46 + 3);

    const ready = (await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "ready", ...hourly }))).AnomalyDetectorArn!;
    await l4m.send(new CreateMetricSetCommand(metricSet(ready, "orders", { TemplatedPathList: [join(dir, "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "history")] })));
    const young = (await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "young", ...hourly }))).AnomalyDetectorArn!;
    await l4m.send(new CreateMetricSetCommand(metricSet(young, "orders", { TemplatedPathList: [join(dir, "young", "{{yyyyMMdd}}", "{{HHmm}}")] })));
    const broken = (await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "broken", ...hourly }))).AnomalyDetectorArn!;
    // Its history is in the data root when the metric set is made; when the detector learns,
    // the folder has become a link to a folder outside the roots, which the read refuses.
    const gone = join(dir, "gone");
    await mkdir(join(gone, "history"), { recursive: true });
    await writeFile(join(gone, "history", "h.csv"), csvOf(shopPoints(T0, 24, SERIES)));
    await l4m.send(new CreateMetricSetCommand(metricSet(broken, "orders", { TemplatedPathList: [join(gone, "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(gone, "history")] })));
    const outside = await tempDir();
    await writeFile(join(outside, "h.csv"), csvOf(shopPoints(T0, 24, SERIES)));
    await rm(join(gone, "history"), { recursive: true });
    await symlink(outside, join(gone, "history"));

    for (const arn of [ready, young, broken]) await l4m.send(new ActivateAnomalyDetectorCommand({ AnomalyDetectorArn: arn }));
    // The loop, woken by the request, may already be learning (test/cli/serve.test.ts shows the request alone).
    expect(["ACTIVATING", "ACTIVE"]).toContain((await status(ready)).Status);
    await settled(serving.service.loop, clock);
    expect((await status(ready)).Status).toBe("ACTIVE");
    expect((await status(young)).Status).toBe("LEARNING");
    expect(await status(broken)).toMatchObject({ Status: "FAILED", FailureType: "ACTIVATION_FAILURE", FailureReason: expect.stringContaining(join(gone, "history")) });

    // The young detector has learned the live hours it was given (one ran at activation): two more, and it scores.
    clock.set(LIVE + 3 * HOUR);
    await settled(serving.service.loop, clock);
    expect((await status(young)).Status).toBe("ACTIVE");

    const runs = (await l4m.send(new DescribeAnomalyDetectionExecutionsCommand({ AnomalyDetectorArn: ready }))).ExecutionList!;
    // No live file was written for the ready detector: its hours say so.
    expect(runs[0]).toEqual({ Timestamp: new Date(LIVE + 2 * HOUR).toISOString().replace(".000", ""), Status: "FAILED", FailureReason: expect.stringMatching(/^No data: no rows were found for this interval/) });
  });

  it("BackTestAnomalyDetector reads the continuous path without a HistoricalDataPathList, as work the request starts; data quality gains the BACKTEST_* spans; a refused one changes nothing", async () => {
    const { dir, clock, serving, l4m, metricSet } = await running();
    await hourlyFiles(join(dir, "live"), T0, 14 * 24, spike);
    const arn = (await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "backtested", ...hourly }))).AnomalyDetectorArn!;
    await l4m.send(new CreateMetricSetCommand(metricSet(arn, "orders", { TemplatedPathList: [join(dir, "live", "{{yyyyMMdd}}", "{{HHmm}}")] })));
    // The request only asks: the loop, woken by it, does the work (test/cli/serve.test.ts shows the request alone).
    await l4m.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn: arn }));
    await settled(serving.service.loop, clock);
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: arn }))).Status).toBe("BACK_TEST_COMPLETE");

    const groups = await l4m.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn: arn, SensitivityThreshold: 70 }));
    expect(groups.AnomalyGroupSummaryList?.map((g) => g.StartTime)).toContain(new Date(T0 + 12 * 24 * HOUR + 5 * HOUR).toISOString().replace(".000", ""));
    expect(groups.AnomalyGroupStatistics).toMatchObject({ TotalCount: groups.AnomalyGroupSummaryList!.length, ItemizedMetricStatsList: [{ MetricName: "views", OccurrenceCount: groups.AnomalyGroupSummaryList!.length }] });

    const quality = await l4m.send(new GetDataQualityMetricsCommand({ AnomalyDetectorArn: arn }));
    const spans = Object.fromEntries(quality.AnomalyDetectorDataQualityMetricList!.flatMap((q) => q.MetricSetDataQualityMetricList![0]!.DataQualityMetricList!).filter((m) => m.MetricType!.startsWith("BACKTEST_")).map((m) => [m.MetricType, m.MetricValue]));
    const last = T0 + (14 * 24 - 1) * HOUR;
    const scoredFrom = T0 + Math.floor((14 * 24 - 1) * 0.7) * HOUR;
    expect(spans).toEqual({
      BACKTEST_TRAINING_DATA_START_TIME_STAMP: T0 / 1000,
      BACKTEST_TRAINING_DATA_END_TIME_STAMP: (scoredFrom - HOUR) / 1000,
      BACKTEST_INFERENCE_DATA_START_TIME_STAMP: scoredFrom / 1000,
      BACKTEST_INFERENCE_DATA_END_TIME_STAMP: last / 1000,
    });

    // A detector that detects is refused, and stays as it was.
    const active = (await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "active", ...hourly }))).AnomalyDetectorArn!;
    await l4m.send(new CreateMetricSetCommand(metricSet(active, "orders", { TemplatedPathList: [join(dir, "live", "{{yyyyMMdd}}", "{{HHmm}}")] })));
    await l4m.send(new ActivateAnomalyDetectorCommand({ AnomalyDetectorArn: active }));
    await settled(serving.service.loop, clock);
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: active }))).Status).toBe("ACTIVE");
    await expect(l4m.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn: active }))).rejects.toBeInstanceOf(ValidationException);
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: active }))).Status).toBe("ACTIVE");

    // A back-test with nothing to read fails with its reason instead of staying BACK_TEST_ACTIVE.
    const empty = (await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "empty", ...hourly }))).AnomalyDetectorArn!;
    await l4m.send(new CreateMetricSetCommand(metricSet(empty, "orders", { TemplatedPathList: [join(dir, "nothing", "{{yyyyMMdd}}", "{{HHmm}}")] })));
    await l4m.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn: empty }));
    await settled(serving.service.loop, clock);
    expect(await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: empty }))).toMatchObject({ Status: "FAILED", FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: expect.stringContaining("no history to back-test") });
  });

  it("answers L4M's quotas with ServiceQuotaExceededException and the quota's code", async () => {
    const { dir, l4m, metricSet } = await running();
    const arn = (await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "quota", ...hourly }))).AnomalyDetectorArn!;
    const six = { ...metricSet(arn, "wide", { TemplatedPathList: [join(dir, "live", "{{yyyyMMdd}}", "{{HHmm}}")] }), MetricList: Array.from({ length: 6 }, (_, i) => ({ MetricName: `m${i}`, AggregationFunction: "SUM" as const })) };
    const refused = await l4m.send(new CreateMetricSetCommand(six)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ServiceQuotaExceededException);
    expect(refused).toMatchObject({ QuotaCode: "MeasuresPerMetricSet", ServiceCode: "lookoutmetrics", $metadata: { httpStatusCode: 402 } });
    const action = { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:t", SnsFormat: "JSON" as const } };
    for (let i = 0; i < 10; i++) await l4m.send(new CreateAlertCommand({ AlertName: `a${i}`, AnomalyDetectorArn: arn, AlertSensitivityThreshold: 70, Action: action }));
    await expect(l4m.send(new CreateAlertCommand({ AlertName: "eleventh", AnomalyDetectorArn: arn, AlertSensitivityThreshold: 70, Action: action }))).rejects.toMatchObject({ name: "ServiceQuotaExceededException", QuotaCode: "AlertsPerAnomalyDetector" });
    for (let i = 1; i < 10; i++) await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: `more${i}`, ...hourly }));
    await expect(l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "eleventh", ...hourly }))).rejects.toMatchObject({ name: "ServiceQuotaExceededException", QuotaCode: "AnomalyDetectorsPerAccount" });
  });

  it("serves /health, /ready and /metrics in Prometheus' text format, which a parser reads", async () => {
    const { dir, clock, serving, l4m, metricSet } = await running();
    await mkdir(join(dir, "history"), { recursive: true });
    await writeFile(join(dir, "history", "h.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
    await hourlyFiles(join(dir, "live"), LIVE - 2 * HOUR, 4);
    const arn = (await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "watched", ...hourly }))).AnomalyDetectorArn!;
    await l4m.send(new CreateMetricSetCommand(metricSet(arn, "orders", { TemplatedPathList: [join(dir, "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "history")] })));
    await l4m.send(new ActivateAnomalyDetectorCommand({ AnomalyDetectorArn: arn }));
    await settled(serving.service.loop, clock);
    clock.set(LIVE + 2 * HOUR);
    await settled(serving.service.loop, clock);

    expect((await fetch(`${serving.url}/health`)).status).toBe(200);
    const ready = await fetch(`${serving.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { scheduler: "up", store: "up" } });
    const scraped = await fetch(`${serving.url}/metrics`);
    expect(scraped.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = new Map(parsePrometheusTextFormat(await scraped.text()).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string> = {}) => Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
    expect(families.get("vigil_intervals_total")?.type).toBe("COUNTER");
    expect(value("vigil_intervals_total", { outcome: "processed" })).toBe(3);
    expect(value("vigil_rows_read_total")).toBe(3 * SERIES.length);
    expect(value("vigil_rows_rejected_total")).toBe(0);
    expect(value("vigil_delivery_queue_depth")).toBe(0);
    expect(families.get("vigil_detection_lag_seconds")?.type).toBe("HISTOGRAM");
    expect(Number(families.get("vigil_detection_lag_seconds")?.metrics[0]?.count)).toBe(3);
    expect(value("vigil_http_requests_total", { status: "2xx" })).toBeGreaterThanOrEqual(4);

    await serving.stop();
    expect(await serving.service.ready()).toMatchObject({ ready: false, checks: { scheduler: "stopped" } });
  });

  it("shows /metrics, which counts every tenant's work, to a bearer of the metrics token alone once other tenants can call; refused to them without one", async () => {
    const token = "m".repeat(20) + "-scrape-token-0123";
    const tenants = [{ name: "team-a", accessKeyId: "TEAMAKEY01", secretAccessKey: "a-long-enough-secret" }];
    const start = async (settings: Record<string, unknown>) => {
      const serving = await startServing(ServeConfig.parse({ dataDir: join(await tempDir(), "data"), port: 0, secretAccessKey: "an operator's own long secret", tenants, ...settings }), { clock: new ManualClock(LIVE), linkClock: Date.now, observer: quietObserver(), watch: false });
      onTestFinished(async () => void (await serving.stop()));
      return serving;
    };
    const scrape = (serving: ServingService, authorization?: string) => fetch(`${serving.url}/metrics`, authorization ? { headers: { authorization } } : {});

    // Another tenant can call and no token is set: nobody is shown the figures, and told why.
    const open = await start({});
    const refused = await scrape(open);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ __type: "AccessDeniedException", Message: expect.stringMatching(/metricsToken \(VIGIL_METRICS_TOKEN\)/) });
    expect((await scrape(open, `Bearer ${token}`)).status).toBe(403);
    expect((await fetch(`${open.url}/ready`)).status).toBe(200);

    // With a token: only its bearer.
    const locked = await start({ metricsToken: token });
    for (const authorization of [undefined, `Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, token, `Bearer${token}`, `Basic ${Buffer.from(`x:${token}`).toString("base64")}`]) {
      const answer = await scrape(locked, authorization);
      expect(answer.status, String(authorization)).toBe(401);
      expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="vigil-metrics"');
      expect(await answer.text()).not.toMatch(/vigil_/);
    }
    const shown = await scrape(locked, `Bearer ${token}`);
    expect(shown.status).toBe(200);
    // The scheme's name in any case, as HTTP allows.
    expect((await scrape(locked, `bearer  ${token}`)).status).toBe(200);
    expect(parsePrometheusTextFormat(await shown.text()).some((f) => f.name === "vigil_intervals_total")).toBe(true);
  });
});
