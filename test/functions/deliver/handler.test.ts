import { OPERATOR, createAlert, createDetector } from "../../../shared/app/index.ts";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LocalDeadLetters } from "../../../shared/store/local-dead-letters.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { T0, tempDir, localAt } from "../../builders.ts";
import { inLocalMode } from "../local-mode.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";

const loadModule = (dataDir: string) => inLocalMode(() => import("../../../functions/deliver/handler.ts"), dataDir);
const loadHandler = async (dataDir: string) => (await loadModule(dataDir)).deliver;

describe("deliver handler (local mode)", () => {
  let receiver: HttpReceiver;
  beforeAll(async () => void (receiver = await HttpReceiver.start()));
  afterAll(() => receiver.stop());

  it("sends the sample delivery to its alert's webhook once, however often the queue hands it over", async () => {
    const dir = await tempDir();
    const rt = localAt(dir);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createAlert(rt, OPERATOR, { AlertName: "shop-severe", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: `${receiver.url}/hook`, Secret: "k" } } });
    const sample = JSON.parse(await readFile("events/deliver/sqs-batch.json", "utf8"));
    const deliver = await loadHandler(dir);
    expect(await deliver(sample)).toEqual({ batchItemFailures: [] });
    expect(await deliver(sample)).toEqual({ batchItemFailures: [] });
    expect(receiver.requests.filter((r) => r.path === "/hook")).toHaveLength(1);
  });

  it("parks a delivery whose alert is gone, and fails only the record that is not a delivery", async () => {
    const dir = await tempDir();
    const sample = JSON.parse(await readFile("events/deliver/sqs-batch.json", "utf8"));
    const deliver = await loadHandler(dir);
    const bad = { ...sample.Records[0], messageId: "bad-1", body: "not json" };
    expect(await deliver({ Records: [sample.Records[0], bad] })).toEqual({ batchItemFailures: [{ itemIdentifier: "bad-1" }] });
    expect(await new LocalDeadLetters(join(dir, "dead-letters")).list()).toMatchObject([{ reason: "ALERT_GONE" }]);
    await expect(deliver({})).rejects.toMatchObject({ name: "ValidationException" }); // the class of the module loaded afresh
  });

  it("fails, unsent, a record whose alert is not its message's (the message's alert names the account it is sent as)", async () => {
    const dir = await tempDir();
    const sample = JSON.parse(await readFile("events/deliver/sqs-batch.json", "utf8"));
    const deliver = await loadHandler(dir);
    const body = JSON.parse(sample.Records[0].body);
    const crossed = { ...sample.Records[0], messageId: "crossed-1", body: JSON.stringify({ ...body, message: { ...body.message, alert: { ...body.message.alert, arn: "arn:aws:lookoutmetrics:us-east-1:123456789012:Alert:theirs" } } }) };
    expect(await deliver({ Records: [sample.Records[0], crossed] })).toEqual({ batchItemFailures: [{ itemIdentifier: "crossed-1" }] });
    // The other record (its alert gone) is parked; the crossed one is not taken at all.
    expect((await new LocalDeadLetters(join(dir, "dead-letters")).list()).map((p) => p.delivery.message.alert.arn)).toEqual([body.alertArn]);
  });

  it("answers its own partial batch when Lambda's deadline nears: the record cut short fails, the one sent is done", async () => {
    const hanging = await HttpReceiver.start();
    try {
      const dir = await tempDir();
      const rt = localAt(dir);
      const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
      await createAlert(rt, OPERATOR, { AlertName: "shop-severe", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: `${hanging.url}/slow`, Secret: "k" } } });
      await createAlert(rt, OPERATOR, { AlertName: "shop-fast", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: `${receiver.url}/fast`, Secret: "k" } } });
      const sample = JSON.parse(await readFile("events/deliver/sqs-batch.json", "utf8"));
      const slow = sample.Records[0];
      const fast = { ...slow, messageId: "fast-1", body: String(slow.body).replaceAll("shop-severe", "shop-fast") };
      hanging.answer("hang", "hang", "hang", "hang", "hang");
      receiver.answer({ status: 200 });
      const { handler } = await loadModule(dir);
      // 10.6 s left: sends stop 10 s before the deadline, 0.6 s from now.
      const context = { getRemainingTimeInMillis: () => 10_600, invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:vigil-deliver", functionName: "vigil-deliver", awsRequestId: "r-1" };
      expect(await handler({ Records: [slow, fast] }, context as never)).toEqual({ batchItemFailures: [{ itemIdentifier: slow.messageId }] });
      expect(receiver.requests.filter((r) => r.path === "/fast")).toHaveLength(1);
    } finally {
      await hanging.stop();
    }
  });
});
