import { join } from "node:path";
import {
  AccessDeniedException,
  ActivateAnomalyDetectorCommand,
  BackTestAnomalyDetectorCommand,
  DetectMetricSetConfigCommand,
  GetSampleDataCommand,
  ListAnomalyGroupRelatedMetricsCommand,
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
  GetAnomalyGroupCommand,
  GetDataQualityMetricsCommand,
  GetFeedbackCommand,
  ListAlertsCommand,
  ListAnomalyDetectorsCommand,
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
  ValidationException,
} from "@aws-sdk/client-lookoutmetrics";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsFromEnv, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, serve } from "../../cli/serve.ts";
import { detectDue } from "../../shared/detect/run-due.ts";
import { localRuntime } from "../../shared/runtime/local.ts";
import { csvOf, HOUR, shopPoints, T0, tempDir, type ShopPoint } from "../builders.ts";

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;
const folder = (t: number) => `${new Date(t).toISOString().slice(0, 10).replaceAll("-", "")}/${new Date(t).toISOString().slice(11, 16).replace(":", "")}`;

describe("vigil serve, driven by @aws-sdk/client-lookoutmetrics", () => {
  let server: Server;
  let url: string;
  let dir: string;
  const client = (accessKeyId = DEFAULT_ACCESS_KEY_ID, secretAccessKey = DEFAULT_SECRET_ACCESS_KEY) => new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });

  /** A request signed as the SDK signs it, to read the raw JSON. */
  async function signedPost(operation: string, body: unknown): Promise<unknown> {
    const { SignatureV4 } = await import("@smithy/signature-v4");
    const { Hash } = await import("@smithy/hash-node");
    const { HttpRequest } = await import("@smithy/protocol-http");
    const u = new URL(url);
    const signer = new SignatureV4({ credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, region: "us-east-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
    const text = JSON.stringify(body);
    const signed = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: u.hostname, port: Number(u.port), path: `/${operation}`, headers: { host: u.host, "content-type": "application/json" }, body: text }));
    const res = await fetch(`${url}/${operation}`, { method: "POST", headers: signed.headers, body: text });
    return res.json();
  }

  beforeAll(async () => {
    dir = await tempDir();
    const credentials = credentialsFromEnv({ VIGIL_TENANTS: "other:OTHERKEY:other-secret" });
    ({ server, url } = await serve({ port: 0, dataDir: join(dir, "vigil"), credentials }));
    const rt = localRuntime(join(dir, "vigil"), () => T0);
    const dip = (p: ShopPoint): ShopPoint => (p.marketplace === "de" && p.t >= LIVE + 4 * HOUR && p.t < LIVE + 6 * HOUR ? { ...p, views: Math.round(Number(p.views) / 5) } : p);
    await rt.blobs.put(join(dir, "files", "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
    const spike = (p: ShopPoint): ShopPoint => (p.marketplace === "fr" && p.t === T0 + 12 * 24 * HOUR + 5 * HOUR ? { ...p, views: Number(p.views) * 4 } : p);
    await rt.blobs.put(join(dir, "files", "spiky", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES, spike)));
    for (let h = 0; h < 10; h++) await rt.blobs.put(join(dir, "files", "live", folder(LIVE + h * HOUR), "part.csv"), csvOf(shopPoints(LIVE + h * HOUR, 1, SERIES, dip)));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("goes through a detector's whole life", async () => {
    const l4m = client();
    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" }, Tags: { team: "growth" } }));
    expect(AnomalyDetectorArn).toBe("arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop");
    const described = await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }));
    expect(described).toMatchObject({ AnomalyDetectorName: "shop", Status: "INACTIVE", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    expect(described.CreationTime).toBeInstanceOf(Date);

    const { MetricSetArn } = await l4m.send(
      new CreateMetricSetCommand({
        AnomalyDetectorArn,
        MetricSetName: "orders",
        MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }],
        DimensionList: ["platform", "marketplace"],
        TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
        MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "files", "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "files", "history")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } },
      }),
    );
    expect((await l4m.send(new DescribeMetricSetCommand({ MetricSetArn }))).MetricList).toEqual([{ MetricName: "views", AggregationFunction: "SUM" }]);
    expect((await l4m.send(new ListMetricSetsCommand({ AnomalyDetectorArn }))).MetricSetSummaryList?.map((m) => m.MetricSetName)).toEqual(["orders"]);

    const { AlertArn } = await l4m.send(
      new CreateAlertCommand({ AlertName: "views-down", AnomalyDetectorArn, AlertSensitivityThreshold: 60, Action: { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:t", SnsFormat: "JSON" } } }),
    );
    expect((await l4m.send(new DescribeAlertCommand({ AlertArn }))).Alert).toMatchObject({ AlertName: "views-down", AlertType: "SNS", AlertStatus: "ACTIVE", AlertSensitivityThreshold: 60 });
    await l4m.send(new ActivateAnomalyDetectorCommand({ AnomalyDetectorArn }));
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("ACTIVE");

    // The scheduler's part: detection runs over the live hours.
    const rt = localRuntime(join(dir, "vigil"), () => LIVE + 10 * HOUR);
    await detectDue(rt, rt.catalog, LIVE + HOUR);
    await detectDue(rt, rt.catalog, LIVE + 10 * HOUR);

    const summaries = await l4m.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn, SensitivityThreshold: 0 }));
    expect(summaries.AnomalyGroupStatistics?.TotalCount).toBeGreaterThanOrEqual(1);
    const top = summaries.AnomalyGroupSummaryList![0]!;
    expect(top).toMatchObject({ PrimaryMetricName: "views", StartTime: new Date(LIVE + 4 * HOUR).toISOString().replace(".000", "") });
    const { AnomalyGroup } = await l4m.send(new GetAnomalyGroupCommand({ AnomalyDetectorArn, AnomalyGroupId: top.AnomalyGroupId }));
    expect(AnomalyGroup?.MetricLevelImpactList?.[0]?.ContributionMatrix?.DimensionContributionList).toContainEqual({ DimensionName: "marketplace", DimensionValueContributionList: [{ DimensionValue: "de", ContributionScore: 100 }] });

    const series = await l4m.send(new ListAnomalyGroupTimeSeriesCommand({ AnomalyDetectorArn, AnomalyGroupId: top.AnomalyGroupId, MetricName: "views" }));
    expect(series.TimestampList).toHaveLength(24 + 2);
    const de = series.TimeSeriesList!.find((s) => s.DimensionList!.some((d) => d.DimensionValue === "de"))!;
    // On the wire, as L4M sent it, a gap is null (no live file before LIVE); the SDK drops nulls from the list it hands over.
    const raw = (await signedPost("ListAnomalyGroupTimeSeries", { AnomalyDetectorArn, AnomalyGroupId: top.AnomalyGroupId, MetricName: "views" })) as { TimeSeriesList: { TimeSeriesId: string; MetricValueList: (number | null)[] }[] };
    const values = raw.TimeSeriesList.find((s) => s.TimeSeriesId === de.TimeSeriesId)!.MetricValueList;
    expect(values).toHaveLength(26);
    expect(values.slice(0, 20)).toEqual(Array(20).fill(null));
    expect(values[24]!).toBeLessThan(values[23]! / 2);
    expect(de.MetricValueList).toEqual(values.filter((v) => v !== null));

    await l4m.send(new PutFeedbackCommand({ AnomalyDetectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: top.AnomalyGroupId, TimeSeriesId: de.TimeSeriesId!, IsAnomaly: true } }));
    const feedback = await l4m.send(new GetFeedbackCommand({ AnomalyDetectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: top.AnomalyGroupId } }));
    expect(feedback.AnomalyGroupTimeSeriesFeedback).toEqual([{ TimeSeriesId: de.TimeSeriesId, IsAnomaly: true }]);
    // Another tenant sees neither the groups nor the feedback, and cannot give any.
    const other = client("OTHERKEY", "other-secret");
    await expect(other.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn, SensitivityThreshold: 0 }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(other.send(new GetAnomalyGroupCommand({ AnomalyDetectorArn, AnomalyGroupId: top.AnomalyGroupId }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(other.send(new GetFeedbackCommand({ AnomalyDetectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: top.AnomalyGroupId } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(other.send(new PutFeedbackCommand({ AnomalyDetectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: top.AnomalyGroupId, TimeSeriesId: de.TimeSeriesId!, IsAnomaly: false } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(other.send(new DescribeAlertCommand({ AlertArn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await l4m.send(new GetFeedbackCommand({ AnomalyDetectorArn, AnomalyGroupTimeSeriesFeedback: { AnomalyGroupId: top.AnomalyGroupId } }))).AnomalyGroupTimeSeriesFeedback).toEqual([{ TimeSeriesId: de.TimeSeriesId, IsAnomaly: true }]);

    const quality = await l4m.send(new GetDataQualityMetricsCommand({ AnomalyDetectorArn }));
    expect(quality.AnomalyDetectorDataQualityMetricList).toHaveLength(10);
    expect(quality.AnomalyDetectorDataQualityMetricList![0]!.MetricSetDataQualityMetricList![0]!.DataQualityMetricList).toContainEqual(expect.objectContaining({ MetricType: "ROWS_PROCESSED", MetricValue: 2 }));

    const first = await l4m.send(new DescribeAnomalyDetectionExecutionsCommand({ AnomalyDetectorArn, MaxResults: 4 }));
    expect(first.ExecutionList).toHaveLength(4);
    expect(first.ExecutionList![0]).toEqual({ Timestamp: new Date(LIVE + 9 * HOUR).toISOString().replace(".000", ""), Status: "COMPLETED" });
    const rest = await l4m.send(new DescribeAnomalyDetectionExecutionsCommand({ AnomalyDetectorArn, MaxResults: 100, NextToken: first.NextToken }));
    expect(rest.ExecutionList).toHaveLength(6);
    expect(rest.NextToken).toBeUndefined();

    await l4m.send(new TagResourceCommand({ ResourceArn: AnomalyDetectorArn, Tags: { costCenter: "42" } }));
    expect((await l4m.send(new ListTagsForResourceCommand({ ResourceArn: AnomalyDetectorArn }))).Tags).toEqual({ team: "growth", costCenter: "42", "vigil:tenant": "default" });
    await l4m.send(new UntagResourceCommand({ ResourceArn: AnomalyDetectorArn, TagKeys: ["team"] }));
    expect((await l4m.send(new ListTagsForResourceCommand({ ResourceArn: AnomalyDetectorArn }))).Tags).toEqual({ costCenter: "42", "vigil:tenant": "default" });

    await l4m.send(new UpdateAlertCommand({ AlertArn, AlertSensitivityThreshold: 80 }));
    expect((await l4m.send(new DescribeAlertCommand({ AlertArn }))).Alert?.AlertSensitivityThreshold).toBe(80);
    await l4m.send(new UpdateAnomalyDetectorCommand({ AnomalyDetectorArn, AnomalyDetectorDescription: "the shop" }));
    expect((await l4m.send(new ListAnomalyDetectorsCommand({}))).AnomalyDetectorSummaryList).toMatchObject([{ AnomalyDetectorName: "shop", AnomalyDetectorDescription: "the shop" }]);

    await l4m.send(new DeactivateAnomalyDetectorCommand({ AnomalyDetectorArn }));
    await l4m.send(new DeleteAlertCommand({ AlertArn }));
    expect((await l4m.send(new ListAlertsCommand({ AnomalyDetectorArn }))).AlertSummaryList).toEqual([]);
    expect(await rt.blobs.list(join(dir, "vigil", "results", "shop", "orders"))).toContain(join(dir, "vigil", "results", "shop", "orders", "model.bin"));
    await l4m.send(new DeleteAnomalyDetectorCommand({ AnomalyDetectorArn }));
    await expect(l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).rejects.toBeInstanceOf(ResourceNotFoundException);

    // Deleted with all it held: made again under the same name, it starts afresh.
    await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
    await l4m.send(
      new CreateMetricSetCommand({
        AnomalyDetectorArn,
        MetricSetName: "orders",
        MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }],
        TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
        MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "files", "history")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } },
      }),
    );
    expect((await l4m.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn, SensitivityThreshold: 0 }))).AnomalyGroupStatistics?.TotalCount).toBe(0);
    expect((await l4m.send(new DescribeAnomalyDetectionExecutionsCommand({ AnomalyDetectorArn }))).ExecutionList).toEqual([]);
    expect((await l4m.send(new GetDataQualityMetricsCommand({ AnomalyDetectorArn }))).AnomalyDetectorDataQualityMetricList).toEqual([]);
    expect(await rt.blobs.list(join(dir, "vigil", "results", "shop"))).toEqual([]);
    await l4m.send(new DeleteAnomalyDetectorCommand({ AnomalyDetectorArn }));
  });

  it("detects a metric set's config from a sample, shows sample rows, and back-tests over the history", async () => {
    const l4m = client();
    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "backtested", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
    const source = { TemplatedPathList: [join(dir, "files", "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(dir, "files", "history")] };
    const detected = (await l4m.send(new DetectMetricSetConfigCommand({ AnomalyDetectorArn, AutoDetectionMetricSource: { S3SourceConfig: source } }))).DetectedMetricSetConfig!;
    expect(detected.MetricSetFrequency).toEqual({ Value: { S: "PT1H" }, Confidence: "HIGH" });
    expect(detected.MetricSource?.S3SourceConfig?.FileFormatDescriptor?.CsvFormatDescriptor).toMatchObject({ Delimiter: { Value: { S: "," }, Confidence: "HIGH" }, ContainsHeader: { Value: { S: "true" } }, HeaderList: { Value: { SS: ["timestamp", "platform", "marketplace", "views", "revenue"] } } });
    const raw = (await signedPost("DetectMetricSetConfig", { AnomalyDetectorArn, AutoDetectionMetricSource: { S3SourceConfig: source } })) as { DetectedMetricSetConfig: Record<string, { Value: unknown }> };
    expect(raw.DetectedMetricSetConfig["TimestampColumn"]!.Value).toEqual({ ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" });
    expect(raw.DetectedMetricSetConfig["MetricList"]!.Value).toEqual({ SS: ["views", "revenue"] });
    expect(raw.DetectedMetricSetConfig["DimensionList"]!.Value).toEqual({ SS: ["platform", "marketplace"] });

    const sample = await l4m.send(new GetSampleDataCommand({ S3SourceConfig: { RoleArn: "arn:aws:iam::000000000000:role/r", ...source, FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } }));
    expect(sample.HeaderValues).toEqual(["timestamp", "platform", "marketplace", "views", "revenue"]);
    expect(sample.SampleRows).toHaveLength(10);

    await l4m.send(
      new CreateMetricSetCommand({
        AnomalyDetectorArn,
        MetricSetName: "history",
        MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }],
        DimensionList: ["platform", "marketplace"],
        TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
        MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "files", "spiky")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } },
      }),
    );
    await l4m.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn }));
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("BACK_TEST_COMPLETE");
    const groups = await l4m.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn, SensitivityThreshold: 70 }));
    expect(groups.AnomalyGroupSummaryList?.map((g) => g.StartTime)).toContain(new Date(T0 + 12 * 24 * HOUR + 5 * HOUR).toISOString().replace(".000", ""));
    const related = await l4m.send(new ListAnomalyGroupRelatedMetricsCommand({ AnomalyDetectorArn, AnomalyGroupId: groups.AnomalyGroupSummaryList![0]!.AnomalyGroupId }));
    expect(related.InterMetricImpactList).toEqual([]); // one measure: nothing else to relate
  });

  it("answers with L4M's errors: bad fields, unknown ARNs, taken names, another tenant's resources, bad signatures", async () => {
    const l4m = client();
    const bad = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "no spaces", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } })).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationException);
    expect((bad as ValidationException).Fields).toEqual([expect.objectContaining({ Name: "AnomalyDetectorName" })]);
    await expect(l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:nope" }))).rejects.toBeInstanceOf(ResourceNotFoundException);

    const { AnomalyDetectorArn } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "mine", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
    await expect(l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "mine", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }))).rejects.toBeInstanceOf(ConflictException);

    const other = client("OTHERKEY", "other-secret");
    await expect(other.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(other.send(new DeleteAnomalyDetectorCommand({ AnomalyDetectorArn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(other.send(new TagResourceCommand({ ResourceArn: AnomalyDetectorArn, Tags: { x: "y" } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await other.send(new ListAnomalyDetectorsCommand({}))).AnomalyDetectorSummaryList).toEqual([]);
    expect((await l4m.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).AnomalyDetectorName).toBe("mine");

    const forged = await client(DEFAULT_ACCESS_KEY_ID, "not-the-secret").send(new ListAnomalyDetectorsCommand({})).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(AccessDeniedException);
    expect((forged as AccessDeniedException).$metadata.httpStatusCode).toBe(403);
    await expect(client("UNKNOWNKEY", "x").send(new ListAnomalyDetectorsCommand({}))).rejects.toBeInstanceOf(AccessDeniedException);
    const unsigned = await fetch(`${url}/ListAnomalyDetectors`, { method: "POST", body: "{}" });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get("x-amzn-errortype")).toBe("AccessDeniedException");
  });
});
