import { OPERATOR, createAlert, createDetector } from "../../../shared/app/index.ts";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { T0, tempDir, localAt } from "../../builders.ts";
import { inLocalMode } from "../local-mode.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";

const loadHandler = async (dataDir: string) => (await inLocalMode(() => import("../../../functions/alert/handler.ts"), dataDir)).alert;

describe("alert handler (local mode)", () => {
  let receiver: HttpReceiver;
  beforeAll(async () => void (receiver = await HttpReceiver.start()));
  afterAll(() => receiver.stop());

  it("routes the sample SQS batch's event to the detector's Slack alert, once, and reports a bad record as a batch item failure", async () => {
    const dir = await tempDir();
    const rt = localAt(dir);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createAlert(rt, OPERATOR, { AlertName: "slack", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { SlackConfiguration: { WebhookUrl: `${receiver.url}/services/x` } } });
    const sample = JSON.parse(await readFile("events/alert/sqs-batch.json", "utf8"));
    const alert = await loadHandler(dir);

    expect(await alert(sample)).toEqual({ batchItemFailures: [] });
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body).text).toContain("revenue");

    // The same event again (SQS delivers at least once), beside a record that is not an event.
    const bad = { ...sample.Records[0], messageId: "bad-1", body: JSON.stringify({ type: "AnomalyGroupChanged" }) };
    expect(await alert({ Records: [sample.Records[0], bad] })).toEqual({ batchItemFailures: [{ itemIdentifier: "bad-1" }] });
    expect(receiver.requests).toHaveLength(1);
  });

  it("accepts an event wrapped in an SNS notification, and routes it as the bare one", async () => {
    const dir = await tempDir();
    const rt = localAt(dir);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createAlert(rt, OPERATOR, { AlertName: "slack", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { SlackConfiguration: { WebhookUrl: `${receiver.url}/services/wrapped` } } });
    const sample = JSON.parse(await readFile("events/alert/sqs-batch.json", "utf8"));
    const wrapped = { ...sample.Records[0], body: JSON.stringify({ Type: "Notification", MessageId: "m", TopicArn: "arn:aws:sns:us-east-1:000000000000:t", Message: sample.Records[0].body }) };
    expect(await (await loadHandler(dir))({ Records: [wrapped] })).toEqual({ batchItemFailures: [] });
    const sent = receiver.requests.filter((r) => r.path === "/services/wrapped");
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!.body).text).toContain("revenue");
  });

  it("answers an event that is not an SQS batch with a ValidationException", async () => {
    const alert = await loadHandler(await tempDir());
    await expect(alert({ Records: [] })).rejects.toMatchObject({ name: "ValidationException" }); // the class of the module loaded afresh
    await expect(alert({ "detail-type": "Scheduled Event" })).rejects.toThrow(/SQS event/);
  });
});
