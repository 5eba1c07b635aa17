import { LambdaClient } from "@aws-sdk/client-lambda";
import { SNSClient } from "@aws-sdk/client-sns";
import { describe, expect, it } from "vitest";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { l4mAlertJson } from "../../../shared/channels/common/l4m-alert.ts";
import { longText, shortText } from "../../../shared/channels/common/text.ts";
import { LambdaSender } from "../../../shared/channels/lambda/sender.ts";
import { SnsSender } from "../../../shared/channels/sns/sender.ts";
import type { AlertArn } from "../../../shared/model/ids.ts";
import { anomalyGroupEvent } from "../../builders.ts";
import { startFakeLambda } from "../../fakes/lambda-server.ts";
import { startFakeSns } from "../../fakes/sns-server.ts";

const TOPIC = "arn:aws:sns:us-east-1:000000000000:shop-alerts";
const FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:on-anomaly";
const message = alertMessage({ AlertName: "shop", AlertArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:shop" as AlertArn }, anomalyGroupEvent(), "first", "https://vigil.example.com");
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
/** The action's role: these clients sign with their own credentials, as the local mode does. */
const ROLE = "arn:aws:iam::000000000000:role/vigil-alerts";
const signal = new AbortController().signal;

describe("SNS alerts through the SDK against a local SNS", () => {
  it("publishes each SnsFormat with a subject and attributes subscribers filter on", async () => {
    const { endpoint, published } = await startFakeSns([TOPIC]);
    const sender = new SnsSender(() => new SNSClient({ endpoint, region: "us-east-1", credentials }));
    for (const format of ["JSON", "LONG_TEXT", "SHORT_TEXT"] as const) expect(await sender.send(message, { kind: "sns", roleArn: ROLE, topicArn: TOPIC, format }, signal)).toEqual({ ok: true });
    expect(JSON.parse(published[0]!.message)).toEqual(l4mAlertJson(message));
    expect(published[1]!.message).toBe(longText(message));
    expect(published[2]!.message).toBe(shortText(message));
    expect(published[0]!.subject).toContain("revenue");
    expect(published[0]!.attributes).toMatchObject({
      severity: { dataType: "Number", value: "91.5" },
      severityBand: { dataType: "String", value: "SEVERE" },
      measure: { dataType: "String", value: "revenue" },
      anomalyGroupId: { dataType: "String", value: message.anomalyGroupId },
    });
  });

  it("a topic that does not exist is a final failure", async () => {
    const { endpoint } = await startFakeSns([TOPIC]);
    const sender = new SnsSender(() => new SNSClient({ endpoint, region: "us-east-1", credentials, maxAttempts: 1 }));
    expect(await sender.send(message, { kind: "sns", roleArn: ROLE, topicArn: `${TOPIC}-gone`, format: "JSON" }, signal)).toMatchObject({ ok: false, retryable: false, reason: "AWS" });
  });
});

describe("Lambda alerts through the SDK against a local Lambda", () => {
  it("invokes the function asynchronously with L4M's alert document", async () => {
    const { endpoint, invocations } = await startFakeLambda([FUNCTION]);
    const sender = new LambdaSender(() => new LambdaClient({ endpoint, region: "us-east-1", credentials }));
    expect(await sender.send(message, { kind: "lambda", roleArn: ROLE, functionArn: FUNCTION }, signal)).toEqual({ ok: true });
    expect(invocations).toHaveLength(1);
    expect(invocations[0]!.invocationType).toBe("Event");
    expect(JSON.parse(invocations[0]!.payload)).toEqual(l4mAlertJson(message));
    expect(await sender.send(message, { kind: "lambda", roleArn: ROLE, functionArn: `${FUNCTION}-gone` }, signal)).toMatchObject({ ok: false, retryable: false });
  });
});
