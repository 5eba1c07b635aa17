import { CreateTableCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXECUTION_RETENTION_MS } from "../../shared/app/detect.ts";
import { activateDetector, createDetector, createMetricSet, detectDue, OPERATOR, type DueRun, type Services } from "../../shared/app/index.ts";
import type { AnomalyGroupEvent } from "../../shared/model/anomaly-event.ts";
import type { AnomalyGroupRecord } from "../../shared/model/anomaly.ts";
import { readModel, readShard } from "../../shared/detect/shard-model.ts";
import { encodeSnapshot } from "../../shared/detect/snapshot.ts";
import type { BlobStore } from "../../shared/store/blobs.ts";
import { DynamoRecordStore, recordTableDefinition, TTL_ATTRIBUTE } from "../../shared/store/dynamo-records.ts";
import { S3BlobStore } from "../../shared/store/s3-blobs.ts";
import { SnsEventPublisher } from "../../shared/store/sns-events.ts";
import { startFakeSns } from "../fakes/sns-server.ts";
import { csvOf, HOUR, localAt, metricSetRequest, shopPoints, T0, tempDir, type ShopPoint, liveFolder } from "../builders.ts";
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
    for (let h = 0; h < LIVE_HOURS; h++) await blobs.put(`s3://metrics/live/${liveFolder(LIVE + h * HOUR)}/part.csv`, csvOf(shopPoints(LIVE + h * HOUR, 1, SERIES, dip)));
  });

  afterAll(() => dynamo?.stop());

  /** Services over the record table and results prefix `name`, the AWS adapters in place of the local ones. */
  async function onAws(name: string, blobs: BlobStore = new S3BlobStore(s3)): Promise<Services> {
    const events = new SnsEventPublisher(new SNSClient({ endpoint: sns.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }), () => TOPIC);
    // The metric set's bucket is read as the operator's own here (no tenant): test/security/assumed-role.test.ts reads it as a role.
    const dataFiles = () => ({ get: (uri: string) => blobs.get(uri), read: (uri: string) => blobs.read(uri), list: (prefix: string) => blobs.list(prefix), check: async () => {} });
    // The store reads expiries on the services' clock, as in AWS, where both are the real one.
    return { ...localAt(await tempDir(), () => LIVE), records: new DynamoRecordStore(dynamo.client, name, { now: () => LIVE }), blobs, dataFiles, resultsRoot: `s3://metrics/results-${name}`, events };
  }

  /** A Vigil on its own results prefix and record table, with one detector set up. */
  async function vigil(name: string, blobs?: BlobStore): Promise<Services> {
    await dynamo.client.send(new CreateTableCommand(recordTableDefinition(name)));
    const rt = await onAws(name, blobs);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: ["s3://metrics/live/{{yyyyMMdd}}/{{HHmm}}"], HistoricalDataPathList: ["s3://metrics/history/"] } } }));
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    return rt;
  }

  const processed = (runs: DueRun[]) => runs.filter((r) => r.outcome.kind === "processed").map((r) => r.intervalStart);

  it("catches up after an outage and finds the dip, with results in S3 and groups in DynamoDB", async () => {
    const rt = await vigil("catchup");
    const before = sns.published.length;
    expect(processed(await detectDue(rt, LIVE + HOUR))).toEqual([LIVE]);
    const caught = await detectDue(rt, LIVE + LIVE_HOURS * HOUR);
    expect(processed(caught)).toEqual(Array.from({ length: LIVE_HOURS - 1 }, (_, h) => LIVE + (h + 1) * HOUR));
    const groups = await rt.records.list<AnomalyGroupRecord>("groups");
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ startMs: LIVE + 4 * HOUR, endMs: LIVE + 5 * HOUR });
    // Alerting hears of the group once per change: it opened, grew, then ended once its series had been quiet for the event's hold (two hours: engine/layout.ts).
    const announced = sns.published.slice(before).map((p) => JSON.parse(p.message) as AnomalyGroupEvent).filter((e) => e.anomalyGroup.AnomalyGroupId === groups[0]!.AnomalyGroupId);
    expect(announced.map((e) => [e.type, e.revision, e.intervalStart])).toEqual([
      ["AnomalyGroupChanged", 1, LIVE + 4 * HOUR],
      ["AnomalyGroupChanged", 2, LIVE + 5 * HOUR],
      ["AnomalyGroupEnded", 2, LIVE + 7 * HOUR],
    ]);
    // The event shows the hours before the dip against the expected band, and the series that carry it.
    const chart = announced[1]!.summary.chart;
    expect(chart.actual).toHaveLength(24);
    expect(chart.actual.at(-1)!).toBeLessThan(chart.lower.at(-1)!);
    expect(chart.actual.at(-3)!).toBeGreaterThanOrEqual(chart.lower.at(-3)!);
    expect(announced[1]!.summary.contributors).toContainEqual({ name: "marketplace", value: "de", share: 100 });
    const anomalies = new TextDecoder().decode(await rt.blobs.get(`s3://metrics/results-catchup/000000000000/shop/orders/${liveFolder(LIVE + 4 * HOUR)}/anomalies.jsonl`));
    expect(anomalies).toMatch(/"marketplace":"de"/);
    expect(await detectDue(rt, LIVE + LIVE_HOURS * HOUR)).toEqual([]);
    // Execution records expire on their own, 90 days after the run that wrote them.
    const item = await dynamo.client.send(new GetItemCommand({ TableName: "catchup", Key: { pk: { S: "executions" }, sk: { S: `000000000000/shop/orders/${LIVE + 4 * HOUR}` } } }));
    expect(Number(item.Item?.[TTL_ATTRIBUTE]?.N)).toBe(Math.ceil((LIVE + LIVE_HOURS * HOUR + EXECUTION_RETENTION_MS) / 1000));
  });

  it("processes each interval once when two invocations race, and ends as one run would", async () => {
    // Invocation a is held inside its first interval (after taking its lease, before committing) while b runs.
    let entered!: () => void;
    let release!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const held = new Promise<void>((r) => (release = r));
    const s3Blobs = new S3BlobStore(s3);
    let armed = false;
    const gated: BlobStore = {
      ...s3Blobs,
      get: (uri) => s3Blobs.get(uri),
      getRange: (uri, offset, length) => s3Blobs.getRange(uri, offset, length),
      read: (uri) => s3Blobs.read(uri),
      list: (prefix) => s3Blobs.list(prefix),
      deleteFolder: (folder) => s3Blobs.deleteFolder(folder),
      put: async (uri, body, kind) => {
        if (armed && uri.endsWith("anomalies.jsonl")) {
          armed = false;
          entered();
          await held;
        }
        return s3Blobs.put(uri, body, kind);
      },
    };
    const a = await vigil("race", gated);
    const b = await onAws("race");
    await detectDue(a, LIVE + HOUR); // both start from the same committed model
    armed = true;
    const now = LIVE + LIVE_HOURS * HOUR;
    const runA = detectDue(a, now);
    await inside;
    const runB = await detectDue(b, now); // a holds the next interval's lease: b gives way at once
    expect(runB.map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[LIVE + HOUR, "in-progress"]]);
    release();
    expect(processed(await runA)).toEqual(Array.from({ length: LIVE_HOURS - 1 }, (_, h) => LIVE + (h + 1) * HOUR));
    expect(await detectDue(b, now)).toEqual([]); // b's next run finds everything done
    // Racing left no trace: the groups and model are those of one run alone.
    const reference = await vigil("reference");
    await detectDue(reference, LIVE + HOUR);
    await detectDue(reference, now);
    const strip = (g: AnomalyGroupRecord) => ({ ...g, AnomalyDetectorArn: undefined });
    expect((await a.records.list<AnomalyGroupRecord>("groups")).map(strip)).toEqual((await reference.records.list<AnomalyGroupRecord>("groups")).map(strip));
    // The committed model: its head, and each shard's series, each series' state by its key (the versions they are kept under are each run's own, and so is the
    // key their hashes are taken under, by which the history is spilled: the order of a shard's series is each model's own).
    const model = async (prefix: string) => {
      const root = `s3://metrics/${prefix}/000000000000/shop/orders`;
      const found = (await readModel(s3Blobs, root))!;
      const shards = await Promise.all(
        found.shards.map(async (s) => {
          const bank = await readShard(s3Blobs, root, s.version, s.id, HOUR);
          const states = bank.keys.map((key, i) => [key, Buffer.from(bank.select([i]).serialize()).toString("base64")] as const).sort(([x], [y]) => (x < y ? -1 : 1));
          return [s.id, s.series, states];
        }),
      );
      return { head: encodeSnapshot({ ...found.head, bank: found.head.bank }), shards };
    };
    const raced = await model("results-race");
    expect(raced.shards).toHaveLength(1);
    expect(raced).toEqual(await model("results-reference"));
  });
});
