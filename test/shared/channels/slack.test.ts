import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { literalSecrets } from "../../../shared/channels/common/secrets.ts";
import { SlackSender } from "../../../shared/channels/slack/sender.ts";
import { alertNamed, anomalyGroupEvent } from "../../builders.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";
import { runRetryTable } from "./retry-table.ts";

const message = alertMessage(alertNamed("a"), anomalyGroupEvent(), "first", "http://localhost:8087");
const sender = (blockPrivateAddresses = false) => new SlackSender({ secrets: literalSecrets, timeoutMs: 300, blockPrivateAddresses, now: Date.now });
const signal = new AbortController().signal;

runRetryTable("Slack", (url) => sender().send(message, { kind: "slack", webhookUrl: url }, signal));

describe("Slack sender", () => {
  let receiver: HttpReceiver;
  beforeAll(async () => void (receiver = await HttpReceiver.start()));
  afterAll(() => receiver.stop());

  it("POSTs the Block Kit message as JSON to the webhook URL", async () => {
    expect(await sender().send(message, { kind: "slack", webhookUrl: `${receiver.url}/services/T0/B0/secret` }, signal)).toEqual({ ok: true });
    const req = receiver.requests.at(-1)!;
    expect(req.path).toBe("/services/T0/B0/secret");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body).attachments[0].blocks[0].type).toBe("header");
  });

  it("refuses private addresses in AWS mode, and a secret reference it cannot resolve, without calling", async () => {
    const before = receiver.requests.length;
    expect(await sender(true).send(message, { kind: "slack", webhookUrl: receiver.url }, signal)).toMatchObject({ ok: false, retryable: false, reason: "BLOCKED_URL" });
    expect(await sender().send(message, { kind: "slack", webhookUrl: "{{resolve:secretsmanager:vigil/slack}}" }, signal)).toMatchObject({ ok: false, reason: "SECRET" });
    expect(receiver.requests).toHaveLength(before);
  });

  it("parks, without calling or quoting it, a URL whose secret holds no http(s) URL (it threw, and the delivery was lost)", async () => {
    for (const held of ["not a url", "ftp://files.example/x", "https://"]) {
      const fromSecret = new SlackSender({ secrets: { resolve: async () => held }, timeoutMs: 300, blockPrivateAddresses: true, now: Date.now });
      const result = await fromSecret.send(message, { kind: "slack", webhookUrl: "{{resolve:secretsmanager:vigil/slack}}" }, signal);
      expect(result, held).toMatchObject({ ok: false, retryable: false, reason: "BLOCKED_URL" });
      expect(JSON.stringify(result)).not.toContain(held);
    }
  });
});
