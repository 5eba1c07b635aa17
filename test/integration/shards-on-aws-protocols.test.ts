import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { SNSClient } from "@aws-sdk/client-sns";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDue, HANDED_LEASE_MS, LEASE_MS, type IntervalExecution } from "../../shared/app/detect.ts";
import { activateDetector, createDetector, createMetricSet, OPERATOR, type Services } from "../../shared/app/index.ts";
import { parkedMessage } from "../../shared/app/shard-parked.ts";
import { shardMessage, type ShardMessage } from "../../shared/app/shard-queue.ts";
import { metricSetRoot } from "../../shared/detect/results.ts";
import { readModel, shardUri } from "../../shared/detect/shard-model.ts";
import type { AnomalyGroupEvent } from "../../shared/model/anomaly-event.ts";
import type { AnomalyGroupRecord } from "../../shared/model/anomaly.ts";
import type { MetricSet } from "../../shared/model/metric-set.ts";
import { messageOf } from "../../shared/runtime/queue-events.ts";
import { ShardMessageSchema } from "../../shared/runtime/shard-messages.ts";
import { SqsShardRunner } from "../../shared/runtime/shard-queue.ts";
import { DynamoRecordStore, recordTableDefinition } from "../../shared/store/dynamo-records.ts";
import { S3BlobStore } from "../../shared/store/s3-blobs.ts";
import { SnsEventPublisher } from "../../shared/store/sns-events.ts";
import { startFakeSns } from "../fakes/sns-server.ts";
import { startFakeSqs, type FakeSqs } from "../fakes/sqs-server.ts";
import { cycle, HOUR, localAt, metricSetRequest, sqlTime, T0, tempDir, liveFolder } from "../builders.ts";
import { startDynamoDbLocal, startS3rver } from "../servers.ts";

/**
 * Sharded detection on the AWS adapters, through the real SDK clients: shard jobs and
 * merges on an SQS queue with a redrive policy (a local SQS), files, shards and work in S3
 * (s3rver), records and leases in DynamoDB (DynamoDB Local), events on SNS. The test
 * stands in for the Lambda event source mapping: it takes one message at a time, hands it
 * to the shard function's use case, deletes it when that succeeds and lets it come back
 * when it fails.
 */
const MARKETS = 30;
const PLATFORMS = ["web", "app"];
const HISTORY_HOURS = 24 * 10;
const LIVE = T0 + HISTORY_HOURS * HOUR;
const LIVE_HOURS = 8;
const TOPIC = "arn:aws:sns:us-east-1:000000000000:vigil-anomaly-groups";
const CAPACITY = 16;

function csvAt(from: number, hours: number): string {
  const lines = ["timestamp,platform,marketplace,views,revenue"];
  for (let h = 0; h < hours; h++) {
    const t = from + h * HOUR;
    for (let m = 0; m < MARKETS; m++)
      PLATFORMS.forEach((p, i) => {
        const views = cycle(t, 200 + 31 * m + 7 * i);
        const dip = t >= LIVE + 4 * HOUR && t < LIVE + 6 * HOUR && m < 8 ? 0.2 : 1;
        lines.push(`${sqlTime(t)},${p},m${m},${views},${Math.round(views * 30 * dip) / 100}`);
      });
  }
  return lines.join("\n") + "\n";
}

describe("sharded detection on SQS, S3 and DynamoDB", () => {
  let s3: S3Client;
  let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
  let sns: Awaited<ReturnType<typeof startFakeSns>>;
  let sqs: FakeSqs;
  let client: SQSClient;

  beforeAll(async () => {
    s3 = await startS3rver(["metrics"]);
    dynamo = await startDynamoDbLocal();
    sns = await startFakeSns([TOPIC]);
    sqs = await startFakeSqs(["shards", "shards-dead"], Date.now, { shards: { deadLetter: "shards-dead", maxReceiveCount: 3 } });
    client = new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    const blobs = new S3BlobStore(s3);
    await blobs.put("s3://metrics/history/all.csv", csvAt(T0, HISTORY_HOURS));
    for (let h = 0; h < LIVE_HOURS; h++) await blobs.put(`s3://metrics/live/${liveFolder(LIVE + h * HOUR)}/part.csv`, csvAt(LIVE + h * HOUR, 1));
  });

  afterAll(() => dynamo?.stop());

  /** A Vigil on its own table and results prefix, its shards on the queue. */
  async function vigil(name: string, now: () => number): Promise<{ rt: Services; metricSet: MetricSet }> {
    await dynamo.client.send(new CreateTableCommand(recordTableDefinition(name)));
    const blobs = new S3BlobStore(s3);
    const events = new SnsEventPublisher(new SNSClient({ endpoint: sns.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }), () => TOPIC);
    // The metric set's bucket is read as the operator's own here (no tenant): test/security/assumed-role.test.ts reads it as a role.
    const dataFiles = () => ({ get: (uri: string) => blobs.get(uri), read: (uri: string) => blobs.read(uri), list: (prefix: string) => blobs.list(prefix), check: async () => {} });
    const rt: Services = { ...localAt(await tempDir(), now), records: new DynamoRecordStore(dynamo.client, name, { now }), blobs, dataFiles, resultsRoot: `s3://metrics/results-${name}`, events, shards: new SqsShardRunner(async () => client, sqs.queueUrl("shards"), blobs, CAPACITY) };
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const metricSet = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: ["s3://metrics/live/{{yyyyMMdd}}/{{HHmm}}"], HistoricalDataPathList: ["s3://metrics/history/"] } } }));
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    return { rt, metricSet };
  }

  /**
   * The event source mappings of the shard queue and its dead-letter queue, one message at
   * a time until both are empty: answers how many messages each handled, and how many
   * attempts failed.
   */
  async function drain(rt: Services, now: () => number): Promise<{ shards: number; merges: number; failures: number; parked: number }> {
    const seen = { shards: 0, merges: 0, failures: 0, parked: 0 };
    for (;;) {
      const [queued] = (await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl("shards"), MaxNumberOfMessages: 1, VisibilityTimeout: 0 }))).Messages ?? [];
      if (queued) {
        const message = messageOf(ShardMessageSchema, queued.Body!, "shard message") as ShardMessage;
        try {
          await shardMessage(rt, message, now());
          seen[message.kind === "merge" ? "merges" : "shards"]++;
          await client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl("shards"), ReceiptHandle: queued.ReceiptHandle! }));
        } catch {
          seen.failures++;
        }
        continue;
      }
      const [dead] = (await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl("shards-dead"), MaxNumberOfMessages: 1 }))).Messages ?? [];
      if (!dead) return seen;
      await parkedMessage(rt, messageOf(ShardMessageSchema, dead.Body!, "shard message") as ShardMessage, now());
      seen.parked++;
      await client.send(new DeleteMessageCommand({ QueueUrl: sqs.queueUrl("shards-dead"), ReceiptHandle: dead.ReceiptHandle! }));
    }
  }

  it("learns the history and detects every interval through the queue, as one local unsharded run does", async () => {
    let at = LIVE + HOUR;
    const now = () => at;
    const { rt, metricSet } = await vigil("fanout", now);
    const before = sns.published.length;
    // The history is learned on the queue: nothing is due until it is committed.
    expect(await detectDue(rt, at)).toEqual([]);
    expect(sqs.messages("shards").length).toBeGreaterThan(1);
    const learning = await drain(rt, now);
    expect(learning).toMatchObject({ failures: 0, parked: 0 });
    // The merge committed the history and went on to the first live interval, itself on the queue.
    expect(learning.merges).toBe(2);
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    expect((await readModel(rt.blobs, root))?.head.through).toBe(LIVE);

    at = LIVE + LIVE_HOURS * HOUR;
    const started = await detectDue(rt, at);
    expect(started.map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[LIVE + HOUR, "dispatched"]]);
    // A scheduled run while it is on the queue leaves it be.
    expect((await detectDue(rt, at)).map((r) => r.outcome.kind)).toEqual(["in-progress"]);
    const caught = await drain(rt, now);
    expect(caught).toMatchObject({ failures: 0, parked: 0, merges: LIVE_HOURS - 1 });
    const model = (await readModel(rt.blobs, root))!;
    expect(model.head.through).toBe(LIVE + (LIVE_HOURS - 1) * HOUR);
    expect(model.shards.length).toBeGreaterThanOrEqual((MARKETS * PLATFORMS.length * 2) / CAPACITY);
    // The work of every run went with its commit.
    expect((await rt.blobs.list(`${root}/`)).filter((uri) => uri.includes("/runs/"))).toEqual([]);

    // One local run with one shard finds the same.
    const localDir = await tempDir();
    const local = localAt(localDir, now, { shardCapacity: 1_000_000 });
    const files = join(await tempDir(), "files");
    await local.blobs.put(join(files, "history", "all.csv"), csvAt(T0, HISTORY_HOURS));
    for (let h = 0; h < LIVE_HOURS; h++) await local.blobs.put(join(files, "live", liveFolder(LIVE + h * HOUR), "part.csv"), csvAt(LIVE + h * HOUR, 1));
    const detector = await createDetector(local, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const localSet = await createMetricSet(local, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(files, "live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(files, "history")] } } }));
    await activateDetector(local, OPERATOR, detector.AnomalyDetectorArn);
    at = LIVE + HOUR;
    await detectDue(local, at);
    at = LIVE + LIVE_HOURS * HOUR;
    await detectDue(local, at);
    const groups = await rt.records.list<AnomalyGroupRecord>("groups");
    expect(groups).toHaveLength(1);
    expect(groups).toEqual(await local.records.list<AnomalyGroupRecord>("groups"));
    for (let h = 0; h < LIVE_HOURS; h++) {
      const text = async (r: Services, m: MetricSet) => new TextDecoder().decode(await r.blobs.get(`${metricSetRoot(r.resultsRoot, m)}/${liveFolder(LIVE + h * HOUR)}/anomalies.jsonl`));
      expect(await text(rt, metricSet)).toEqual(await text(local, localSet));
    }
    const executions = await rt.records.list<IntervalExecution>("executions");
    expect(executions.map((e) => e.Status)).toEqual(Array.from({ length: LIVE_HOURS }, () => "COMPLETED"));
    // The same events, charts included, as the local run wrote them: the group announced, held while its series still deviate, then ended.
    const announced = sns.published.slice(before).map((p) => JSON.parse(p.message) as AnomalyGroupEvent);
    const localEvents = (await readFile(join(localDir, "events", "anomaly-groups.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as AnomalyGroupEvent);
    expect(announced).toEqual(localEvents);
    expect(announced.map((e) => e.type)).toEqual(["AnomalyGroupChanged", "AnomalyGroupEnded"]);
    expect(announced[1]!.intervalStart).toBeGreaterThan(announced[0]!.intervalStart + HOUR);
    expect(announced[0]!.summary.chart.actual.at(-1)!).toBeLessThan(announced[0]!.summary.chart.lower.at(-1)!);
  });

  it("retries a shard that fails, parks it after its last attempt with the interval FAILED and nothing committed, and runs the interval again once it can", async () => {
    let at = LIVE + HOUR;
    const now = () => at;
    const { rt, metricSet } = await vigil("parking", now);
    await detectDue(rt, at);
    await drain(rt, now);
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    const committed = (await readModel(rt.blobs, root))!;
    expect(committed.head.through).toBe(LIVE);
    // One shard's snapshot is damaged: every attempt at it fails.
    const victim = committed.shards.find((s) => s.series > 0)!;
    const uri = shardUri(root, victim.version, victim.id);
    const intact = (await rt.blobs.get(uri))!;
    await rt.blobs.put(uri, "not a snapshot");

    at = LIVE + 2 * HOUR;
    expect((await detectDue(rt, at)).map((r) => r.outcome.kind)).toEqual(["dispatched"]);
    const failed = await drain(rt, now);
    expect(failed).toMatchObject({ failures: 3, parked: 1, merges: 0 });
    const execution = await rt.records.get<IntervalExecution>("executions", `000000000000/shop/orders/${LIVE + HOUR}`);
    expect(execution).toMatchObject({ Status: "FAILED", FailureReason: expect.stringMatching(new RegExp(`^shard s${victim.id} failed on every attempt: the model's shard s${victim.id} of version ${victim.version} is unreadable`)) });
    // Never half-committed: the model, its shards and the groups are as they were; the interval is free again.
    expect(await readModel(rt.blobs, root)).toEqual(committed);
    expect(await rt.records.list("groups")).toEqual([]);
    expect(await rt.records.get("leases", `000000000000/shop/orders/${LIVE + HOUR}`)).toBeUndefined();
    expect((await rt.blobs.list(`${root}/`)).filter((u) => u.includes(`/runs/${LIVE + HOUR}/`))).toEqual([]);

    // Repaired, the next run does the interval.
    await rt.blobs.put(uri, intact);
    expect((await detectDue(rt, at)).map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[LIVE + HOUR, "dispatched"]]);
    expect(await drain(rt, now)).toMatchObject({ failures: 0, parked: 0, merges: 1 });
    expect(await rt.records.get<IntervalExecution>("executions", `000000000000/shop/orders/${LIVE + HOUR}`)).toMatchObject({ Status: "COMPLETED" });
    expect((await readModel(rt.blobs, root))?.head.through).toBe(LIVE + HOUR);
  });

  it("lets a merge or a park that comes after its run's lease ran out write nothing: the next run takes the interval over", async () => {
    let at = LIVE + HOUR;
    const now = () => at;
    const { rt, metricSet } = await vigil("late", now);
    await detectDue(rt, at);
    // The history's merge comes after an invocation's lease would have run out: a run handed to the queue holds it longer.
    at += LEASE_MS + 60_000;
    await drain(rt, now);
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    const committed = (await readModel(rt.blobs, root))!;
    expect(committed.head.through).toBe(LIVE);
    const key = `000000000000/shop/orders/${LIVE + HOUR}`;

    // The merge comes once the handed run's lease has run out (the queue held it too long).
    at = LIVE + 2 * HOUR;
    expect((await detectDue(rt, at)).map((r) => r.outcome.kind)).toEqual(["dispatched"]);
    const held = await rt.records.get<{ until: number }>("leases", key);
    at += HANDED_LEASE_MS + 60_000;
    expect(await drain(rt, now)).toMatchObject({ failures: 0, parked: 0, merges: 1 });
    expect(await readModel(rt.blobs, root)).toEqual(committed);
    expect(await rt.records.get<IntervalExecution>("executions", key)).toMatchObject({ Status: "IN_PROGRESS" });
    // Its lease, run out, is given back: the next run takes the interval over at once.
    expect(held?.until).toBeLessThan(at);
    expect(await rt.records.get("leases", key)).toBeUndefined();

    // So does a park: one shard fails on every attempt after the lease ran out.
    const victim = committed.shards.find((s) => s.series > 0)!;
    const uri = shardUri(root, victim.version, victim.id);
    const intact = (await rt.blobs.get(uri))!;
    await rt.blobs.put(uri, "not a snapshot");
    expect((await detectDue(rt, at)).map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[LIVE + HOUR, "dispatched"]]);
    const taken = await rt.records.get<{ until: number }>("leases", key);
    at += HANDED_LEASE_MS + 60_000;
    expect(await drain(rt, now)).toMatchObject({ failures: 3, parked: 1, merges: 0 });
    expect(await rt.records.get<IntervalExecution>("executions", key)).toMatchObject({ Status: "IN_PROGRESS" });
    expect(taken?.until).toBeLessThan(at);
    expect(await rt.records.get("leases", key)).toBeUndefined();

    // Repaired, the next run takes it over and commits it.
    await rt.blobs.put(uri, intact);
    expect((await detectDue(rt, at)).map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[LIVE + HOUR, "dispatched"]]);
    expect(await drain(rt, now)).toMatchObject({ failures: 0, parked: 0 });
    expect(await rt.records.get<IntervalExecution>("executions", key)).toMatchObject({ Status: "COMPLETED" });
    // And goes on to every interval closed since.
    expect((await readModel(rt.blobs, root))?.head.through).toBe(LIVE + 5 * HOUR);
  });
});
