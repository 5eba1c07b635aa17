import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { listDeliveries, replayParkedDeliveries } from "../../shared/app/index.ts";
import { Catalog } from "../../shared/catalog/catalog.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesFor } from "../../shared/runtime/index.ts";
import { DynamoRecordStore } from "../../shared/store/dynamo-records.ts";
import { anomalyGroupEvent, T0 } from "../builders.ts";
import { alertingEnv } from "../fakes/aws-env.ts";
import { startFakeSns } from "../fakes/sns-server.ts";
import { startFakeSqs, type FakeSqs } from "../fakes/sqs-server.ts";
import { startFakeSts } from "../fakes/sts-server.ts";
import { startDynamoDbLocal } from "../servers.ts";

/**
 * Parked deliveries are kept per account in AWS mode. They once waited in one dead-letter
 * queue for every tenant, and a tenant's ReplayDeliveries received (and held invisible,
 * while its replay lasted) every tenant's: another tenant replaying meanwhile found
 * nothing, and one replaying in a loop hid everyone's. Here tenant A's replay is held on
 * its channel (a slow SNS) while tenant B replays: B's parked delivery is there, and sent.
 * The real alert and deliver handlers park through DynamoDB Local, a local SQS, SNS and STS.
 */
const A = "111111111111";
const B = "222222222222";
const topicOf = (account: string) => `arn:aws:sns:us-east-1:${account}:alerts`;
const roleOf = (account: string) => `arn:aws:iam::${account}:role/vigil-alerts`;
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const sqsRecord = (body: string, messageId: string) => ({ messageId, receiptHandle: messageId, body, attributes: {}, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:q", awsRegion: "us-east-1" });

describe("parked deliveries, one tenant's replay beside another's", () => {
  let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
  let sqs: FakeSqs;
  let sns: Awaited<ReturnType<typeof startFakeSns>>;
  const topics: string[] = [];
  /** Publishes to A's topic wait here while it is set. */
  let holdA: { held: () => void; released: Promise<void> } | undefined;
  const detectors: Record<string, string> = {};

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal("parked");
    sqs = await startFakeSqs(["deliveries", "dead-letters"]);
    sns = await startFakeSns(topics, {
      hold: (topicArn) => {
        if (topicArn !== topicOf(A) || !holdA) return undefined;
        holdA.held();
        return holdA.released;
      },
    });
    const sts = await startFakeSts({ [roleOf(A)]: { trusts: ["local"], externalId: A }, [roleOf(B)]: { trusts: ["local"], externalId: B } });
    const endpoint = String(await dynamo.client.config.endpoint?.().then((e) => `${e.protocol}//${e.hostname}:${e.port}`));
    for (const [k, v] of Object.entries(alertingEnv(dynamo.tableName, endpoint, { sqs, sns, sts }))) vi.stubEnv(k, v);
    for (const account of [A, B]) {
      const catalog = new Catalog({ records: new DynamoRecordStore(dynamo.client, dynamo.tableName), scope: { partition: "aws", region: "us-east-1", accountId: account }, now: () => T0 });
      const detector = await catalog.createDetector({ AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
      await catalog.createAlert({ AlertName: "shop-sns", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { SNSConfiguration: { RoleArn: roleOf(account), SnsTopicArn: topicOf(account), SnsFormat: "JSON" } } });
      detectors[account] = detector.AnomalyDetectorArn;
    }
  }, 60_000);

  afterAll(() => {
    vi.unstubAllEnvs();
    dynamo?.stop();
  });

  it("sends tenant B's parked delivery while tenant A's replay is still under way, and A's once its channel answers", async () => {
    const { alert } = await import("../../functions/alert/handler.ts");
    const { deliver } = await import("../../functions/deliver/handler.ts");
    // Each tenant's alert fires once while its topic is missing: the deliveries are parked.
    for (const account of [A, B]) {
      const event = { ...anomalyGroupEvent({ revision: 1, groupId: `4f1c2d3e-aaaa-4bbb-8ccc-${account}` }), anomalyDetectorArn: detectors[account]!, metricSetArn: `arn:aws:lookoutmetrics:us-east-1:${account}:MetricSet/shop/orders` };
      expect(await alert({ Records: [sqsRecord(JSON.stringify(event), `event-${account}`)] })).toEqual({ batchItemFailures: [] });
    }
    const client = new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials });
    const queued = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl("deliveries"), MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect(queued.Messages).toHaveLength(2);
    expect(await deliver({ Records: queued.Messages!.map((m) => sqsRecord(m.Body!, m.MessageId!)) })).toEqual({ batchItemFailures: [] });

    const services = await servicesFor(configFromEnv(process.env));
    const scope = (account: string) => ({ tenant: account, accountId: account });
    for (const account of [A, B]) expect(await listDeliveries(services, scope(account), { Status: "PARKED" })).toHaveLength(1);

    // The topics exist now; A's SNS is slow: A's replay waits on it.
    topics.push(topicOf(A), topicOf(B));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (holdA = { held: resolve, released: new Promise<void>((r) => (release = r)) }));
    const replayA = replayParkedDeliveries(services, scope(A), new AbortController().signal);
    await held;

    // Meanwhile B replays: its parked delivery is there, and sent; B sees its own as parked until then.
    expect(await listDeliveries(services, scope(B), { Status: "PARKED" })).toHaveLength(1);
    expect(await replayParkedDeliveries(services, scope(B), new AbortController().signal)).toEqual({ retried: 1, remaining: 0 });
    expect(sns.published.map((p) => p.topicArn)).toEqual([topicOf(B)]);
    expect(await listDeliveries(services, scope(B), { Status: "PARKED" })).toEqual([]);

    release();
    expect(await replayA).toEqual({ retried: 1, remaining: 0 });
    expect(sns.published.map((p) => p.topicArn).sort()).toEqual([topicOf(A), topicOf(B)]);
    // Nothing is left for either, nor sent twice by a replay after.
    for (const account of [A, B]) expect(await replayParkedDeliveries(services, scope(account), new AbortController().signal)).toEqual({ retried: 0, remaining: 0 });
    expect(sns.published).toHaveLength(2);
  }, 60_000);
});
