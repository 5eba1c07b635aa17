import { join } from "node:path";
import {
  AccessDeniedException,
  ActivateAnomalyDetectorCommand,
  BackTestAnomalyDetectorCommand,
  ConflictException,
  CreateAlertCommand,
  CreateAnomalyDetectorCommand,
  CreateMetricSetCommand,
  DeactivateAnomalyDetectorCommand,
  DeleteAlertCommand,
  DeleteAnomalyDetectorCommand,
  DescribeAlertCommand,
  DescribeAnomalyDetectionExecutionsCommand,
  DescribeAnomalyDetectorCommand,
  DescribeMetricSetCommand,
  DetectMetricSetConfigCommand,
  GetAnomalyGroupCommand,
  GetDataQualityMetricsCommand,
  GetFeedbackCommand,
  GetSampleDataCommand,
  ListAlertsCommand,
  ListAnomalyDetectorsCommand,
  ListAnomalyGroupRelatedMetricsCommand,
  ListAnomalyGroupSummariesCommand,
  ListAnomalyGroupTimeSeriesCommand,
  ListMetricSetsCommand,
  ListTagsForResourceCommand,
  LookoutMetricsClient,
  PutFeedbackCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAlertCommand,
  UpdateAnomalyDetectorCommand,
  UpdateMetricSetCommand,
  ValidationException,
} from "@aws-sdk/client-lookoutmetrics";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountOf, DEFAULT_ACCESS_KEY_ID, serve, tenantsFromConfig } from "../../cli/serve.ts";
import { activateDetector, createAlert, createDetector, createMetricSet, detectDue, OPERATOR, runBackTests, type Services } from "../../shared/app/index.ts";
import { csvOf, HOUR, localAt, shopPoints, T0 as MONDAY, tempDir, type ShopPoint, liveFolder } from "../builders.ts";

/**
 * `vigil serve` through the official client, one spec per operation: what each answers on
 * the wire. Fixtures are made through the use cases; the use cases' own rules are tested
 * beside them (test/shared/app).
 */
const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
// The server reads records' expiry (executions: 90 days) by the real clock, so the data is dated a month back, on a Monday.
const WEEK = 7 * 24 * HOUR;
const T0 = MONDAY + Math.floor((Date.now() - 30 * 24 * HOUR - MONDAY) / WEEK) * WEEK;
const LIVE = T0 + 14 * 24 * HOUR;
const seconds = (ms: number) => new Date(ms).toISOString().replace(".000", "");
const hourly = { AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" as const } };
/** The default tenant's secret: the public default is refused beside other tenants. */
const OWN_SECRET = "the-operator-own-secret";

describe("vigil serve, driven by @aws-sdk/client-lookoutmetrics", () => {
  let server: Server;
  let url: string;
  let dir: string;
  let services: Services;
  let now = LIVE;
  /** The shop: a detector with a metric set over ten live hours with a dip in de, an alert, and detection run. */
  let shop: { detector: string; metricSet: string; alert: string; group: string };
  const client = (accessKeyId = DEFAULT_ACCESS_KEY_ID, secretAccessKey = OWN_SECRET) => new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
  const other = () => client("OTHERKEY", "other-secret");
  const source = () => ({ TemplatedPathList: [join(dir, "files", "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "files", "history")] });
  const views = { MetricList: [{ MetricName: "views", AggregationFunction: "SUM" as const }], DimensionList: ["platform", "marketplace"], TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" } };
  const metricSetOf = (AnomalyDetectorArn: string, name = "orders") => ({ AnomalyDetectorArn, MetricSetName: name, ...views, MetricSource: { S3SourceConfig: { ...source(), FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } } });

  /** A request signed as the SDK signs it, to read the raw JSON. */
  async function signedPost(operation: string, body: unknown): Promise<unknown> {
    const { SignatureV4 } = await import("@smithy/signature-v4");
    const { Hash } = await import("@smithy/hash-node");
    const { HttpRequest } = await import("@smithy/protocol-http");
    const u = new URL(url);
    const signer = new SignatureV4({ credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: OWN_SECRET }, region: "us-east-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
    const text = JSON.stringify(body);
    const signed = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: u.hostname, port: Number(u.port), path: `/${operation}`, headers: { host: u.host, "content-type": "application/json" }, body: text }));
    const res = await fetch(`${url}/${operation}`, { method: "POST", headers: signed.headers, body: text });
    return res.json();
  }

  beforeAll(async () => {
    dir = await tempDir();
    // The server's clock is the real one (signatures are checked against it); detection is driven here.
    services = localAt(join(dir, "vigil"), Date.now);
    ({ server, url } = await serve({ port: 0, services, tenants: await tenantsFromConfig({ dataDir: join(dir, "vigil"), secretAccessKey: OWN_SECRET, tenants: [{ name: "other", accessKeyId: "OTHERKEY", secretAccessKey: "other-secret" }], dataRoots: { default: [join(dir, "files")] } }) }));
    const dip = (p: ShopPoint): ShopPoint => (p.marketplace === "de" && p.t >= LIVE + 4 * HOUR && p.t < LIVE + 6 * HOUR ? { ...p, views: Math.round(Number(p.views) / 5) } : p);
    await services.blobs.put(join(dir, "files", "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
    const spike = (p: ShopPoint): ShopPoint => (p.marketplace === "fr" && p.t === T0 + 12 * 24 * HOUR + 5 * HOUR ? { ...p, views: Number(p.views) * 4 } : p);
    await services.blobs.put(join(dir, "files", "spiky", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES, spike)));
    for (let h = 0; h < 10; h++) await services.blobs.put(join(dir, "files", "live", liveFolder(LIVE + h * HOUR), "part.csv"), csvOf(shopPoints(LIVE + h * HOUR, 1, SERIES, dip)));

    const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", ...hourly, Tags: { team: "growth" } });
    const metricSet = await createMetricSet(services, OPERATOR, metricSetOf(detector.AnomalyDetectorArn));
    const alert = await createAlert(services, OPERATOR, { AlertName: "views-down", AnomalyDetectorArn: detector.AnomalyDetectorArn, AlertSensitivityThreshold: 60, Action: { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:t", SnsFormat: "JSON" } } });
    await activateDetector(services, OPERATOR, detector.AnomalyDetectorArn);
    const groups = new Set<string>();
    for (now of [LIVE + HOUR, LIVE + 10 * HOUR]) for (const r of await detectDue(services, now)) if (r.outcome.kind === "processed" && r.outcome.group) groups.add(r.outcome.group.AnomalyGroupId);
    expect(groups.size).toBe(1);
    shop = { detector: detector.AnomalyDetectorArn, metricSet: metricSet.MetricSetArn, alert: alert.AlertArn, group: [...groups][0]! };
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("CreateAnomalyDetector, DescribeAnomalyDetector, UpdateAnomalyDetector, ListAnomalyDetectors", async () => {
    const l4m = client();
    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "described", ...hourly }));
    expect(AnomalyDetectorArn).toBe("arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:described");
    const described = await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }));
    expect(described).toMatchObject({ AnomalyDetectorName: "described", Status: "INACTIVE", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    expect(described.CreationTime).toBeInstanceOf(Date);
    await l4m.send(new UpdateAnomalyDetectorCommand({ AnomalyDetectorArn, AnomalyDetectorDescription: "described twice" }));
    const listed = (await l4m.send(new ListAnomalyDetectorsCommand({}))).AnomalyDetectorSummaryList!;
    expect(listed.find((d) => d.AnomalyDetectorArn === AnomalyDetectorArn)).toMatchObject({ AnomalyDetectorName: "described", AnomalyDetectorDescription: "described twice" });
    expect(listed.find((d) => d.AnomalyDetectorArn === shop.detector)?.Tags).toEqual({ team: "growth" });
  });

  it("ActivateAnomalyDetector and DeactivateAnomalyDetector", async () => {
    const l4m = client();
    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "switched", ...hourly }));
    await expect(l4m.send(new ActivateAnomalyDetectorCommand({ AnomalyDetectorArn }))).rejects.toBeInstanceOf(ValidationException); // nothing to run yet
    await createMetricSet(services, OPERATOR, metricSetOf(AnomalyDetectorArn!));
    await l4m.send(new ActivateAnomalyDetectorCommand({ AnomalyDetectorArn }));
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("ACTIVATING");
    await detectDue(services, now); // the scheduled work learns the history: two weeks is enough to score
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("ACTIVE");
    await expect(l4m.send(new DeleteAnomalyDetectorCommand({ AnomalyDetectorArn }))).rejects.toBeInstanceOf(ConflictException);
    await l4m.send(new DeactivateAnomalyDetectorCommand({ AnomalyDetectorArn }));
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("DEACTIVATED");
  });

  it("CreateMetricSet, DescribeMetricSet, UpdateMetricSet, ListMetricSets", async () => {
    const l4m = client();
    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "measured", ...hourly }));
    const { MetricSetArn } = await l4m.send(new CreateMetricSetCommand(metricSetOf(AnomalyDetectorArn!)));
    expect(MetricSetArn).toBe("arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/measured/orders");
    expect((await l4m.send(new DescribeMetricSetCommand({ MetricSetArn }))).MetricList).toEqual([{ MetricName: "views", AggregationFunction: "SUM" }]);
    await l4m.send(new UpdateMetricSetCommand({ MetricSetArn, Offset: 600 }));
    expect((await l4m.send(new DescribeMetricSetCommand({ MetricSetArn }))).Offset).toBe(600);
    expect((await l4m.send(new ListMetricSetsCommand({ AnomalyDetectorArn }))).MetricSetSummaryList?.map((m) => m.MetricSetName)).toEqual(["orders"]);
  });

  it("CreateAlert, DescribeAlert, UpdateAlert, ListAlerts, DeleteAlert", async () => {
    const l4m = client();
    const { AlertArn } = await l4m.send(new CreateAlertCommand({ AlertName: "hooked", AnomalyDetectorArn: shop.detector, Action: { WebhookConfiguration: { Url: "https://example.com/hook", Secret: "s3cret" } } } as never));
    expect((await l4m.send(new DescribeAlertCommand({ AlertArn }))).Alert).toMatchObject({ AlertName: "hooked", AlertType: "WEBHOOK", AlertStatus: "ACTIVE", AlertSensitivityThreshold: 70 });
    const raw = (await signedPost("DescribeAlert", { AlertArn })) as { Alert: { Action: { WebhookConfiguration: { Secret: string } } } };
    expect(raw.Alert.Action.WebhookConfiguration.Secret).not.toContain("s3cret");
    await l4m.send(new UpdateAlertCommand({ AlertArn, AlertSensitivityThreshold: 80 }));
    expect((await l4m.send(new DescribeAlertCommand({ AlertArn }))).Alert?.AlertSensitivityThreshold).toBe(80);
    expect((await l4m.send(new ListAlertsCommand({ AnomalyDetectorArn: shop.detector }))).AlertSummaryList?.map((a) => a.AlertName)).toEqual(["hooked", "views-down"]);
    await l4m.send(new DeleteAlertCommand({ AlertArn }));
    expect((await l4m.send(new ListAlertsCommand({ AnomalyDetectorArn: shop.detector }))).AlertSummaryList?.map((a) => a.AlertName)).toEqual(["views-down"]);
  });

  it("ListAnomalyGroupSummaries and GetAnomalyGroup", async () => {
    const l4m = client();
    const summaries = await l4m.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn: shop.detector, SensitivityThreshold: 0 }));
    expect(summaries.AnomalyGroupStatistics).toMatchObject({ TotalCount: 1, EvaluationStartDate: seconds(LIVE + 4 * HOUR), ItemizedMetricStatsList: [{ MetricName: "views", OccurrenceCount: 1 }] });
    expect(summaries.AnomalyGroupSummaryList).toMatchObject([{ AnomalyGroupId: shop.group, PrimaryMetricName: "views", StartTime: seconds(LIVE + 4 * HOUR) }]);
    const { AnomalyGroup } = await l4m.send(new GetAnomalyGroupCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupId: shop.group }));
    expect(AnomalyGroup?.MetricLevelImpactList?.[0]?.ContributionMatrix?.DimensionContributionList).toContainEqual({ DimensionName: "marketplace", DimensionValueContributionList: [{ DimensionValue: "de", ContributionScore: 100 }] });
  });

  it("ListAnomalyGroupTimeSeries: the group's series from 24 intervals before it, history's intervals as detection kept them", async () => {
    const series = await client().send(new ListAnomalyGroupTimeSeriesCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupId: shop.group, MetricName: "views" }));
    expect(series.TimestampList).toHaveLength(24 + 2);
    const de = series.TimeSeriesList!.find((s) => s.DimensionList!.some((d) => d.DimensionValue === "de"))!;
    // No live file before LIVE: those intervals were learned from history, and their values are the ones detection kept.
    const raw = (await signedPost("ListAnomalyGroupTimeSeries", { AnomalyDetectorArn: shop.detector, AnomalyGroupId: shop.group, MetricName: "views" })) as { TimeSeriesList: { TimeSeriesId: string; MetricValueList: (number | null)[]; AnomalyScoreList: (number | null)[] }[] };
    const wire = raw.TimeSeriesList.find((s) => s.TimeSeriesId === de.TimeSeriesId)!;
    const values = wire.MetricValueList;
    expect(values).toHaveLength(26);
    expect(values.every((v) => v !== null)).toBe(true);
    expect(wire.AnomalyScoreList.slice(0, 20)).toEqual(Array(20).fill(null)); // learned, not scored
    expect(values[24]!).toBeLessThan(values[23]! / 2);
    expect(de.MetricValueList).toEqual(values.filter((v) => v !== null));
  });

  it("PutFeedback and GetFeedback", async () => {
    const l4m = client();
    const series = await l4m.send(new ListAnomalyGroupTimeSeriesCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupId: shop.group, MetricName: "views" }));
    const de = series.TimeSeriesList!.find((s) => s.DimensionList!.some((d) => d.DimensionValue === "de"))!.TimeSeriesId!;
    await l4m.send(new PutFeedbackCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: shop.group, TimeSeriesId: de, IsAnomaly: true } }));
    const feedback = await l4m.send(new GetFeedbackCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: shop.group } }));
    // L4M's fields, and Vigil's beside them: the dip judged (below expected) and the tolerance it leaves.
    expect(feedback.AnomalyGroupTimeSeriesFeedback).toEqual([expect.objectContaining({ TimeSeriesId: de, IsAnomaly: true, Tolerance: { Side: "BELOW", Before: 1, After: 1 } })]);
    expect((feedback.AnomalyGroupTimeSeriesFeedback![0] as { Deviation?: number }).Deviation).toBeLessThan(-3);
    await expect(l4m.send(new PutFeedbackCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: shop.group, TimeSeriesId: "f".repeat(128), IsAnomaly: true } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("GetDataQualityMetrics and DescribeAnomalyDetectionExecutions, paged", async () => {
    const l4m = client();
    const quality = await l4m.send(new GetDataQualityMetricsCommand({ AnomalyDetectorArn: shop.detector }));
    // The history learned, told by its HISTORY_* figures, which the SDK reads (its entry starts where a history reaches, a year back); then the ten intervals detected.
    const isHistory = (q: NonNullable<typeof quality.AnomalyDetectorDataQualityMetricList>[number]) => q.MetricSetDataQualityMetricList![0]!.DataQualityMetricList!.some((x) => (x.MetricType as string | undefined) === "HISTORY_READ_TIME_STAMP");
    const [history, ...intervals] = quality.AnomalyDetectorDataQualityMetricList!;
    expect(isHistory(history!)).toBe(true);
    expect(history!.StartTimestamp).toEqual(new Date(LIVE - 365 * 24 * HOUR));
    expect(history!.MetricSetDataQualityMetricList![0]!.DataQualityMetricList).toContainEqual(expect.objectContaining({ MetricType: "INVALID_ROWS_COMPLIANCE", MetricValue: 0 }));
    expect(intervals.filter(isHistory)).toEqual([]);
    expect(intervals).toHaveLength(10);
    expect(intervals[0]!.MetricSetDataQualityMetricList![0]!.DataQualityMetricList).toContainEqual(expect.objectContaining({ MetricType: "ROWS_PROCESSED", MetricValue: 2 }));
    const first = await l4m.send(new DescribeAnomalyDetectionExecutionsCommand({ AnomalyDetectorArn: shop.detector, MaxResults: 4 }));
    expect(first.ExecutionList).toHaveLength(4);
    expect(first.ExecutionList![0]).toEqual({ Timestamp: seconds(LIVE + 9 * HOUR), Status: "COMPLETED" });
    const rest = await l4m.send(new DescribeAnomalyDetectionExecutionsCommand({ AnomalyDetectorArn: shop.detector, MaxResults: 100, NextToken: first.NextToken }));
    expect(rest.ExecutionList).toHaveLength(6);
    expect(rest.NextToken).toBeUndefined();
    await expect(l4m.send(new DescribeAnomalyDetectionExecutionsCommand({ AnomalyDetectorArn: shop.detector, NextToken: Buffer.from("4|groups:x").toString("base64url") }))).rejects.toBeInstanceOf(ValidationException);
  });

  it("TagResource, ListTagsForResource, UntagResource", async () => {
    const l4m = client();
    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "tagged", ...hourly, Tags: { team: "growth" } }));
    await l4m.send(new TagResourceCommand({ ResourceArn: AnomalyDetectorArn, Tags: { costCenter: "42" } }));
    expect((await l4m.send(new ListTagsForResourceCommand({ ResourceArn: AnomalyDetectorArn }))).Tags).toEqual({ team: "growth", costCenter: "42" });
    await l4m.send(new UntagResourceCommand({ ResourceArn: AnomalyDetectorArn, TagKeys: ["team"] }));
    expect((await l4m.send(new ListTagsForResourceCommand({ ResourceArn: AnomalyDetectorArn }))).Tags).toEqual({ costCenter: "42" });
  });

  it("DeleteAnomalyDetector deletes all it held: one made again under the same name starts afresh", async () => {
    const l4m = client();
    const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "doomed", ...hourly });
    await createMetricSet(services, OPERATOR, metricSetOf(detector.AnomalyDetectorArn));
    await activateDetector(services, OPERATOR, detector.AnomalyDetectorArn);
    await detectDue(services, LIVE + 2 * HOUR);
    const results = join(dir, "vigil", "results", "000000000000", "doomed");
    expect(await services.blobs.list(results)).toContain(join(results, "orders", "model", "head.bin"));
    const AnomalyDetectorArn = detector.AnomalyDetectorArn;
    await l4m.send(new DeactivateAnomalyDetectorCommand({ AnomalyDetectorArn }));
    await l4m.send(new DeleteAnomalyDetectorCommand({ AnomalyDetectorArn }));
    await expect(l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(await services.blobs.list(results)).toEqual([]);
    await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "doomed", ...hourly }));
    await l4m.send(new CreateMetricSetCommand(metricSetOf(AnomalyDetectorArn)));
    expect((await l4m.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn, SensitivityThreshold: 0 }))).AnomalyGroupStatistics?.TotalCount).toBe(0);
    expect((await l4m.send(new DescribeAnomalyDetectionExecutionsCommand({ AnomalyDetectorArn }))).ExecutionList).toEqual([]);
    expect((await l4m.send(new GetDataQualityMetricsCommand({ AnomalyDetectorArn }))).AnomalyDetectorDataQualityMetricList).toEqual([]);
  });

  it("DetectMetricSetConfig and GetSampleData", async () => {
    const l4m = client();
    const detected = (await l4m.send(new DetectMetricSetConfigCommand({ AnomalyDetectorArn: shop.detector, AutoDetectionMetricSource: { S3SourceConfig: source() } }))).DetectedMetricSetConfig!;
    expect(detected.MetricSetFrequency).toEqual({ Value: { S: "PT1H" }, Confidence: "HIGH" });
    expect(detected.MetricSource?.S3SourceConfig?.FileFormatDescriptor?.CsvFormatDescriptor).toMatchObject({ Delimiter: { Value: { S: "," }, Confidence: "HIGH" }, ContainsHeader: { Value: { S: "true" } }, HeaderList: { Value: { SS: ["timestamp", "platform", "marketplace", "views", "revenue"] } } });
    const raw = (await signedPost("DetectMetricSetConfig", { AnomalyDetectorArn: shop.detector, AutoDetectionMetricSource: { S3SourceConfig: source() } })) as { DetectedMetricSetConfig: Record<string, { Value: unknown }> };
    expect(raw.DetectedMetricSetConfig["TimestampColumn"]!.Value).toEqual({ ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" });
    expect(raw.DetectedMetricSetConfig["MetricList"]!.Value).toEqual({ SS: ["views", "revenue"] });
    expect(raw.DetectedMetricSetConfig["DimensionList"]!.Value).toEqual({ SS: ["platform", "marketplace"] });
    const sample = await l4m.send(new GetSampleDataCommand({ S3SourceConfig: { RoleArn: "arn:aws:iam::000000000000:role/r", ...source(), FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } }));
    expect(sample.HeaderValues).toEqual(["timestamp", "platform", "marketplace", "views", "revenue"]);
    expect(sample.SampleRows).toHaveLength(10);
  });

  it("BackTestAnomalyDetector, then ListAnomalyGroupRelatedMetrics on a group it found", async () => {
    const l4m = client();
    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "backtested", ...hourly }));
    await l4m.send(new CreateMetricSetCommand({ ...metricSetOf(AnomalyDetectorArn!, "history"), MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "files", "spiky")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } } }));
    await l4m.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn }));
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("BACK_TEST_ACTIVATING");
    // Asked again before it ran: refused, and the status stays.
    await expect(l4m.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn }))).rejects.toBeInstanceOf(ValidationException);
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("BACK_TEST_ACTIVATING");
    await runBackTests(services); // the work the request asked for
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("BACK_TEST_COMPLETE");
    const groups = await l4m.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn, SensitivityThreshold: 70 }));
    expect(groups.AnomalyGroupSummaryList?.map((g) => g.StartTime)).toContain(seconds(T0 + 12 * 24 * HOUR + 5 * HOUR));
    const related = await l4m.send(new ListAnomalyGroupRelatedMetricsCommand({ AnomalyDetectorArn, AnomalyGroupId: groups.AnomalyGroupSummaryList![0]!.AnomalyGroupId }));
    expect(related.InterMetricImpactList).toEqual([]); // one measure: nothing else to relate
  });

  it("answers with L4M's errors: bad fields, unknown ARNs, taken names, bad signatures", async () => {
    const l4m = client();
    const bad = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "no spaces", ...hourly })).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationException);
    expect((bad as ValidationException).Fields).toEqual([expect.objectContaining({ Name: "AnomalyDetectorName" })]);
    await expect(l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:nope" }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "shop", ...hourly }))).rejects.toBeInstanceOf(ConflictException);

    const forged = await client(DEFAULT_ACCESS_KEY_ID, "not-the-secret").send(new ListAnomalyDetectorsCommand({})).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(AccessDeniedException);
    expect((forged as AccessDeniedException).$metadata.httpStatusCode).toBe(403);
    await expect(client("UNKNOWNKEY", "x").send(new ListAnomalyDetectorsCommand({}))).rejects.toBeInstanceOf(AccessDeniedException);
    const unsigned = await fetch(`${url}/ListAnomalyDetectors`, { method: "POST", body: "{}" });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get("x-amzn-errortype")).toBe("AccessDeniedException");
  });

  it("another tenant sees none of the shop's detector, metric set, alert, groups or feedback, and names its own in its own account", async () => {
    const them = other();
    const gone = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(ResourceNotFoundException);
    await gone(them.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: shop.detector })));
    await gone(them.send(new DeleteAnomalyDetectorCommand({ AnomalyDetectorArn: shop.detector })));
    await gone(them.send(new DescribeMetricSetCommand({ MetricSetArn: shop.metricSet })));
    await gone(them.send(new DescribeAlertCommand({ AlertArn: shop.alert })));
    await gone(them.send(new TagResourceCommand({ ResourceArn: shop.detector, Tags: { x: "y" } })));
    await gone(them.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn: shop.detector, SensitivityThreshold: 0 })));
    await gone(them.send(new GetAnomalyGroupCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupId: shop.group })));
    await gone(them.send(new GetFeedbackCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: shop.group } })));
    await gone(them.send(new PutFeedbackCommand({ AnomalyDetectorArn: shop.detector, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: shop.group, TimeSeriesId: "f".repeat(128), IsAnomaly: false } })));

    // The same name is theirs to take: their ARN carries their own account, and ours is untouched.
    const { AnomalyDetectorArn } = await them.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "shop", ...hourly }));
    expect(AnomalyDetectorArn).toBe(`arn:aws:lookoutmetrics:us-east-1:${accountOf("other")}:AnomalyDetector:shop`);
    expect((await them.send(new ListAnomalyDetectorsCommand({}))).AnomalyDetectorSummaryList?.map((d) => d.AnomalyDetectorArn)).toEqual([AnomalyDetectorArn]);
    expect((await client().send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: shop.detector }))).Status).toBe("ACTIVE");
  });
});
