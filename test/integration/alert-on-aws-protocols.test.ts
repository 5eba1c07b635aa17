import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { l4mAlertJson } from "../../shared/channels/common/l4m-alert.ts";
import { DeliverySchema, type ParkedDelivery } from "../../shared/alerts/delivery.ts";
import { listDeliveries, replayDeliveries, replayParkedDeliveries } from "../../shared/app/index.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesFor } from "../../shared/runtime/index.ts";
import { Catalog } from "../../shared/catalog/catalog.ts";
import { DynamoRecordStore, recordTableDefinition } from "../../shared/store/dynamo-records.ts";
import { anomalyGroupEvent, T0 } from "../builders.ts";
import { alertingEnv } from "../fakes/aws-env.ts";
import { startFakeSns } from "../fakes/sns-server.ts";
import { startFakeSqs, type FakeSqs } from "../fakes/sqs-server.ts";
import { startFakeSts, type Role } from "../fakes/sts-server.ts";
import { startDynamoDbLocal } from "../servers.ts";

/**
 * The alert → deliver flow in AWS mode, as deployed: the real handlers, configured by the
 * environment, reach DynamoDB Local, a local SQS and a local SNS through the SDK clients
 * (AWS_ENDPOINT_URL_<SERVICE>). Queues deliver at least once; Vigil must send exactly once.
 * The alert's topic is published to as its RoleArn, assumed through a local STS.
 */
const TABLE = "alerting";
const ALERT_TOPIC = "arn:aws:sns:us-east-1:000000000000:shop-alerts";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
const ROLE = "arn:aws:iam::000000000000:role/r";
const UNTRUSTED_ROLE = "arn:aws:iam::000000000000:role/not-yet-trusting";

const sqsRecord = (body: string, messageId: string) => ({ messageId, receiptHandle: messageId, body, attributes: {}, messageAttributes: {}, md5OfBody: "", eventSource: "aws:sqs", eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:q", awsRegion: "us-east-1" });

describe("alert and deliver on DynamoDB, SQS and SNS", () => {
  let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
  let sqs: FakeSqs;
  let sns: Awaited<ReturnType<typeof startFakeSns>>;
  let sts: Awaited<ReturnType<typeof startFakeSts>>;
  const topics: string[] = [];
  /** The roles STS lets the function's key ("local") assume, with the account's ExternalId. */
  const roles: Record<string, Role> = { [ROLE]: { trusts: ["local"], externalId: "000000000000" } };
  let catalog: Catalog;
  let records: DynamoRecordStore;
  /** What is parked, under the alert's account, in the record table. */
  const parked = () => records.list<ParkedDelivery>("parked", "000000000000/");

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal();
    await dynamo.client.send(new CreateTableCommand(recordTableDefinition(TABLE)));
    sqs = await startFakeSqs(["deliveries"]);
    sns = await startFakeSns(topics);
    sts = await startFakeSts(roles);
    const endpoint = String(await dynamo.client.config.endpoint?.().then((e) => `${e.protocol}//${e.hostname}:${e.port}`));
    for (const [k, v] of Object.entries(alertingEnv(TABLE, endpoint, { sqs, sns, sts }))) vi.stubEnv(k, v);
    records = new DynamoRecordStore(dynamo.client, TABLE);
    catalog = new Catalog({ records, scope: { partition: "aws", region: "us-east-1", accountId: "000000000000" }, now: () => T0 });
    const detector = await catalog.createDetector({ AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await catalog.createAlert({ AlertName: "shop-sns", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { SNSConfiguration: { RoleArn: ROLE, SnsTopicArn: ALERT_TOPIC, SnsFormat: "JSON" } } });
  });

  afterAll(() => {
    vi.unstubAllEnvs();
    dynamo?.stop();
  });

  const queued = () => sqs.messages("deliveries").length;

  async function receiveDeliveries(): Promise<ReturnType<typeof sqsRecord>[]> {
    const client = new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials });
    const out = await client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl("deliveries"), MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    return (out.Messages ?? []).map((m) => sqsRecord(m.Body!, m.MessageId!));
  }

  it("routes an event once however often it comes, and delivers once however often the delivery comes", async () => {
    const { alert } = await import("../../functions/alert/handler.ts");
    const { deliver } = await import("../../functions/deliver/handler.ts");
    topics.push(ALERT_TOPIC);
    const event = anomalyGroupEvent({ revision: 1, score: 92 });
    const record = sqsRecord(JSON.stringify(event), "e1");
    expect(await alert({ Records: [record] })).toEqual({ batchItemFailures: [] });
    expect(await alert({ Records: [record, { ...record, messageId: "e1-again" }] })).toEqual({ batchItemFailures: [] });
    expect(queued()).toBe(1);

    const deliveries = await receiveDeliveries();
    expect(await deliver({ Records: deliveries })).toEqual({ batchItemFailures: [] });
    expect(await deliver({ Records: deliveries })).toEqual({ batchItemFailures: [] });
    const toTopic = sns.published.filter((p) => p.topicArn === ALERT_TOPIC);
    expect(toTopic).toHaveLength(1);
    const delivery = DeliverySchema.parse(JSON.parse(deliveries[0]!.body));
    expect(JSON.parse(toTopic[0]!.message)).toEqual(l4mAlertJson(delivery.message));
    // Published as the alert's role, assumed for its account, not with the function's own key.
    expect(sts.calls).toEqual([{ roleArn: ROLE, externalId: "000000000000", sessionName: "vigil-000000000000", caller: "local", issued: expect.anything() }]);
    expect(toTopic[0]).toMatchObject({ accessKeyId: sts.calls[0]!.issued!.accessKeyId, sessionToken: sts.calls[0]!.issued!.sessionToken });
  });

  it("parks what the channel refuses under the alert's account, and replay sends it once the channel is fixed", async () => {
    const { alert } = await import("../../functions/alert/handler.ts");
    const { deliver } = await import("../../functions/deliver/handler.ts");
    topics.splice(0); // the alert's topic is gone: SNS answers NotFound
    const event = anomalyGroupEvent({ revision: 1, score: 92, groupId: "9a1c2d3e-aaaa-4bbb-8ccc-0123456789ab" });
    await alert({ Records: [sqsRecord(JSON.stringify(event), "e2")] });
    const before = sns.published.length;
    expect(await deliver({ Records: await receiveDeliveries() })).toEqual({ batchItemFailures: [] });
    expect(await parked()).toMatchObject([{ reason: "AWS", attempts: 1 }]);

    topics.push(ALERT_TOPIC);
    // What `vigil replay` does with VIGIL_MODE=aws: the services of the environment's mode.
    const services = await servicesFor(configFromEnv(process.env));
    expect(await replayDeliveries(services, new AbortController().signal)).toEqual({ retried: 1, remaining: 0 });
    expect(sns.published.length - before).toBe(1);
    expect(await parked()).toEqual([]);
  });

  it("parks at once a delivery whose role does not let Vigil in, saying what its trust policy needs; replay sends it once the role does", async () => {
    const { alert } = await import("../../functions/alert/handler.ts");
    const { deliver } = await import("../../functions/deliver/handler.ts");
    const [shop] = await catalog.listAlerts();
    await catalog.updateAlert({ AlertArn: shop!.AlertArn, Action: { SNSConfiguration: { RoleArn: UNTRUSTED_ROLE, SnsTopicArn: ALERT_TOPIC, SnsFormat: "JSON" } } });
    const before = sns.published.length;
    await alert({ Records: [sqsRecord(JSON.stringify(anomalyGroupEvent({ revision: 1, score: 92, groupId: "7b1c2d3e-aaaa-4bbb-8ccc-0123456789ab" })), "e3")] });
    expect(await deliver({ Records: await receiveDeliveries() })).toEqual({ batchItemFailures: [] });
    expect(sns.published.length).toBe(before);
    expect(sts.calls.filter((c) => c.roleArn === UNTRUSTED_ROLE)).toEqual([{ roleArn: UNTRUSTED_ROLE, externalId: "000000000000", sessionName: "vigil-000000000000", caller: "local" }]);
    expect(await parked()).toMatchObject([{
      reason: "ROLE",
      attempts: 1,
      detail: `Vigil could not assume the role ${UNTRUSTED_ROLE} for account 000000000000: its trust policy must let Vigil assume it with sts:ExternalId 000000000000`,
    }]);

    roles[UNTRUSTED_ROLE] = { trusts: ["local"], externalId: "000000000000" };
    const services = await servicesFor(configFromEnv(process.env));
    expect(await replayDeliveries(services, new AbortController().signal)).toEqual({ retried: 1, remaining: 0 });
    const issued = sts.calls.filter((c) => c.roleArn === UNTRUSTED_ROLE && c.issued).map((c) => c.issued!.accessKeyId);
    expect(issued).toHaveLength(1);
    expect(sns.published.slice(before).map((p) => p.accessKeyId)).toEqual(issued);
  });

  it("parks under its account a delivery the queue gave up on (deliveryParked), and one a former deliver left on the queue; replay sends each once", async () => {
    const { alert } = await import("../../functions/alert/handler.ts");
    const { parked: takeDeadLetters } = await import("../../functions/deliveryParked/handler.ts");
    const [shop] = await catalog.listAlerts();
    await catalog.updateAlert({ AlertArn: shop!.AlertArn, Action: { SNSConfiguration: { RoleArn: ROLE, SnsTopicArn: ALERT_TOPIC, SnsFormat: "JSON" } } });
    await alert({ Records: [sqsRecord(JSON.stringify(anomalyGroupEvent({ revision: 1, score: 92, groupId: "5c1c2d3e-aaaa-4bbb-8ccc-0123456789ab" })), "e4")] });
    await alert({ Records: [sqsRecord(JSON.stringify(anomalyGroupEvent({ revision: 1, score: 92, groupId: "6d1c2d3e-aaaa-4bbb-8ccc-0123456789ab" })), "e5")] });
    const queuedNow = (await receiveDeliveries()).map((r) => DeliverySchema.parse(JSON.parse(r.body)));
    const [crashed, former] = ["5c1c2d3e", "6d1c2d3e"].map((group) => queuedNow.find((d) => d.message.anomalyGroupId.startsWith(group)));
    // One moved by the redrive policy (the delivery itself), one parked on the queue with its reason; and one that is not a delivery.
    // (Parked an hour ago: what the queue still holds is younger than its retention, which the record keeps.)
    const formerBody = JSON.stringify({ delivery: former, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: Date.now() - 3_600_000 });
    const out = await takeDeadLetters({ Records: [sqsRecord(JSON.stringify(crashed), "d1"), sqsRecord(formerBody, "d2"), sqsRecord("{}", "d3")] });
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: "d3" }] });
    expect((await parked()).map((p) => [p.delivery.deliveryId, p.reason]).sort()).toEqual([
      [crashed!.deliveryId, "UNHANDLED"],
      [former!.deliveryId, "HTTP_STATUS"],
    ]);
    // The console says so of the one the queue gave up on (deliver had not).
    const services = await servicesFor(configFromEnv(process.env));
    const scope = { tenant: "000000000000", accountId: "000000000000" };
    expect(await listDeliveries(services, scope, { Status: "PARKED" })).toMatchObject([{ DeliveryId: crashed!.deliveryId, LastError: "delivery failed on it until the queue moved it here" }]);

    const before = sns.published.length;
    expect(await replayParkedDeliveries(services, scope, new AbortController().signal)).toEqual({ retried: 2, remaining: 0 });
    expect(sns.published.length - before).toBe(2);
    // Taken again (the queue gives a message more than once): sent already, so not parked again.
    expect(await takeDeadLetters({ Records: [sqsRecord(JSON.stringify(crashed), "d1")] })).toEqual({ batchItemFailures: [] });
    expect(await parked()).toEqual([]);
  });
});
