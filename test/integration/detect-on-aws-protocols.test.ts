import type { AnomalyGroupEvent } from "../../shared/model/anomaly-event.ts";
import { CreateTableCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDue, type DueRun } from "../../shared/detect/run-due.ts";
import type { AnomalyGroupRecord } from "../../shared/model/anomaly.ts";
import { runtimeOf, type Runtime } from "../../shared/runtime/local.ts";
import { DynamoRecordStore, recordTableDefinition, TTL_ATTRIBUTE } from "../../shared/store/dynamo-records.ts";
import { EXECUTION_RETENTION_MS } from "../../shared/detect/detect-interval.ts";
import { S3BlobStore } from "../../shared/store/s3-blobs.ts";
import { SnsEventPublisher } from "../../shared/store/sns-events.ts";
import { startFakeSns } from "../fakes/sns-server.ts";
import { csvOf, HOUR, metricSetRequest, shopPoints, T0, type ShopPoint } from "../builders.ts";
import { startDynamoDbLocal, startS3rver } from "../servers.ts";

/**
 * The detect flow on the AWS adapters, through the real SDK clients: files and results in
 * S3 (s3rver), records and leases in DynamoDB (DynamoDB Local).
 */
const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;
const LIVE_HOURS = 10;
const TOPIC = "arn:aws:sns:us-east-1:000000000000:vigil-anomaly-groups";
const dip = (p: ShopPoint): ShopPoint => (p.marketplace === "de" && p.t >= LIVE + 4 * HOUR && p.t < LIVE + 6 * HOUR ? { ...p, views: Math.round(Number(p.views) / 5) } : p);
const folder = (t: number) => `${new Date(t).toISOString().slice(0, 10).replaceAll("-", "")}/${new Date(t).toISOString().slice(11, 16).replace(":", "")}`;

describe("detect on S3 and DynamoDB", () => {
  let s3: S3Client;
  let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
  let sns: Awaited<ReturnType<typeof startFakeSns>>;

  beforeAll(async () => {
    s3 = await startS3rver(["metrics"]);
    dynamo = await startDynamoDbLocal();
    sns = await startFakeSns([TOPIC]);
    const blobs = new S3BlobStore(s3);
    await blobs.put("s3://metrics/history/all.csv", csvOf(shopPoints(T0, 14 * 24, SERIES)));
    for (let h = 0; h < LIVE_HOURS; h++) await blobs.put(`s3://metrics/live/${folder(LIVE + h * HOUR)}/part.csv`, csvOf(shopPoints(LIVE + h * HOUR, 1, SERIES, dip)));
  });

  afterAll(() => dynamo?.stop());

  /** A Vigil on its own results prefix and record table, with one detector set up. */
  async function vigil(name: string): Promise<Runtime> {
    await dynamo.client.send(new CreateTableCommand(recordTableDefinition(name)));
    const events = new SnsEventPublisher(new SNSClient({ endpoint: sns.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }), TOPIC);
    const rt = runtimeOf({ records: new DynamoRecordStore(dynamo.client, name), blobs: new S3BlobStore(s3), resultsRoot: `s3://metrics/results-${name}`, events, now: () => LIVE });
    const detector = await rt.catalog.createDetector({ AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await rt.catalog.createMetricSet(metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: ["s3://metrics/live/{{yyyyMMdd}}/{{HHmm}}"], HistoricalDataPathList: ["s3://metrics/history/"] } } }));
    await rt.catalog.setDetectorStatus(detector.AnomalyDetectorArn, "ACTIVE");
    return rt;
  }

  const processed = (runs: DueRun[]) => runs.filter((r) => r.outcome.kind === "processed").map((r) => r.intervalStart);

  it("catches up after an outage and finds the dip, with results in S3 and groups in DynamoDB", async () => {
    const rt = await vigil("catchup");
    const before = sns.published.length;
    expect(processed(await detectDue(rt, rt.catalog, LIVE + HOUR))).toEqual([LIVE]);
    const caught = await detectDue(rt, rt.catalog, LIVE + LIVE_HOURS * HOUR);
    expect(processed(caught)).toEqual(Array.from({ length: LIVE_HOURS - 1 }, (_, h) => LIVE + (h + 1) * HOUR));
    const groups = await rt.records.list<AnomalyGroupRecord>("groups");
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ startMs: LIVE + 4 * HOUR, endMs: LIVE + 5 * HOUR });
    // Alerting hears of the group once per change: it opened, grew, then ended at the first quiet hour.
    const announced = sns.published.slice(before).map((p) => JSON.parse(p.message) as AnomalyGroupEvent).filter((e) => e.anomalyGroup.AnomalyGroupId === groups[0]!.AnomalyGroupId);
    expect(announced.map((e) => [e.type, e.revision, e.intervalStart])).toEqual([
      ["AnomalyGroupChanged", 1, LIVE + 4 * HOUR],
      ["AnomalyGroupChanged", 2, LIVE + 5 * HOUR],
      ["AnomalyGroupEnded", 2, LIVE + 6 * HOUR],
    ]);
    // The event shows the hours before the dip against the expected band, and the series that carry it.
    const chart = announced[1]!.summary.chart;
    expect(chart.actual).toHaveLength(24);
    expect(chart.actual.at(-1)!).toBeLessThan(chart.lower.at(-1)!);
    expect(chart.actual.at(-3)!).toBeGreaterThanOrEqual(chart.lower.at(-3)!);
    expect(announced[1]!.summary.contributors).toContainEqual({ name: "marketplace", value: "de", share: 100 });
    const anomalies = new TextDecoder().decode(await rt.blobs.get(`s3://metrics/results-catchup/shop/orders/${folder(LIVE + 4 * HOUR)}/anomalies.jsonl`));
    expect(anomalies).toMatch(/"marketplace":"de"/);
    expect(await detectDue(rt, rt.catalog, LIVE + LIVE_HOURS * HOUR)).toEqual([]);
    // Execution records expire on their own, 90 days after the run that wrote them.
    const item = await dynamo.client.send(new GetItemCommand({ TableName: "catchup", Key: { pk: { S: "executions" }, sk: { S: `shop/orders/${LIVE + 4 * HOUR}` } } }));
    expect(Number(item.Item?.[TTL_ATTRIBUTE]?.N)).toBe(Math.ceil((LIVE + LIVE_HOURS * HOUR + EXECUTION_RETENTION_MS) / 1000));
  });

  it("processes each interval once when two invocations race, and ends as one run would", async () => {
    const [a, b] = [await vigil("race"), runtimeOf({ records: new DynamoRecordStore(dynamo.client, "race"), blobs: new S3BlobStore(s3), resultsRoot: "s3://metrics/results-race", now: () => LIVE })];
    await detectDue(a, a.catalog, LIVE + HOUR); // both start from the same committed model
    const now = LIVE + LIVE_HOURS * HOUR;
    const [runA, runB] = await Promise.all([detectDue(a, a.catalog, now), detectDue(b, b.catalog, now)]);
    const yielded = [...runA, ...runB].filter((r) => r.outcome.kind === "in-progress" || r.outcome.kind === "processed-elsewhere");
    expect(yielded.length).toBeGreaterThan(0); // they did collide, and one gave way
    const after = await detectDue(a, a.catalog, now); // whatever the loser left, the next schedule finishes
    const all = [...processed(runA), ...processed(runB), ...processed(after)].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: LIVE_HOURS - 1 }, (_, h) => LIVE + (h + 1) * HOUR));
    const reference = await vigil("reference");
    await detectDue(reference, reference.catalog, LIVE + HOUR);
    await detectDue(reference, reference.catalog, now);
    const strip = (g: AnomalyGroupRecord) => ({ ...g, AnomalyDetectorArn: undefined });
    expect((await a.records.list<AnomalyGroupRecord>("groups")).map(strip)).toEqual((await reference.records.list<AnomalyGroupRecord>("groups")).map(strip));
    const model = async (prefix: string) => a.blobs.get(`s3://metrics/${prefix}/shop/orders/model.bin`);
    expect(await model("results-race")).toEqual(await model("results-reference"));
  });
});
