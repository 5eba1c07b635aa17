import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { CreateAlertRequest } from "../../../shared/model/alert.ts";
import { WEBHOOK_SCHEMA } from "../../../shared/channels/webhook/render.ts";
import { literalSecrets } from "../../../shared/channels/common/secrets.ts";
import { WebhookSender } from "../../../shared/channels/webhook/sender.ts";
import { signatureOf, verifySignature } from "../../../shared/channels/webhook/signature.ts";
import { alertNamed, anomalyGroupEvent } from "../../builders.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";
import { runRetryTable } from "./retry-table.ts";

const message = alertMessage(alertNamed("a"), anomalyGroupEvent(), "first", "http://localhost:8087");
const NOW = Date.UTC(2021, 2, 1, 12);
const sender = (blockPrivateAddresses = false) => new WebhookSender({ secrets: literalSecrets, timeoutMs: 300, blockPrivateAddresses, now: () => NOW });
const signal = new AbortController().signal;

runRetryTable("Webhook", (url) => sender().send(message, { kind: "webhook", url }, signal), () => NOW);

describe("webhook sender", () => {
  let receiver: HttpReceiver;
  beforeAll(async () => void (receiver = await HttpReceiver.start()));
  afterAll(() => receiver.stop());

  it("signs timestamp and body so the receiver can verify them and refuse a replay", async () => {
    expect(await sender().send(message, { kind: "webhook", url: `${receiver.url}/hook`, secret: "s3cret", headers: { "X-Team": "growth" } }, signal)).toEqual({ ok: true });
    const req = receiver.requests.at(-1)!;
    const headers = { signature: req.headers["vigil-signature"] as string, timestamp: req.headers["vigil-timestamp"] as string };
    expect(headers.timestamp).toBe(String(NOW / 1000));
    expect(verifySignature("s3cret", headers, req.body, NOW / 1000 + 60)).toBe(true);
    expect(verifySignature("other", headers, req.body, NOW / 1000)).toBe(false);
    expect(verifySignature("s3cret", headers, req.body.replace("revenue", "revenuE"), NOW / 1000)).toBe(false);
    // The same request replayed ten minutes later is refused.
    expect(verifySignature("s3cret", headers, req.body, NOW / 1000 + 600)).toBe(false);
    expect(req.headers["x-team"]).toBe("growth");
    expect(req.headers["vigil-delivery-id"]).toBe(message.deliveryId);
    expect(JSON.parse(req.body)).toMatchObject({ schema: WEBHOOK_SCHEMA, deliveryId: message.deliveryId });
  });

  it("sends unsigned without a secret", async () => {
    await sender().send(message, { kind: "webhook", url: receiver.url }, signal);
    expect(receiver.requests.at(-1)!.headers["vigil-signature"]).toBeUndefined();
  });

  it("refuses private, loopback and link-local URLs in AWS mode without calling them", async () => {
    const before = receiver.requests.length;
    for (const url of [receiver.url, "http://169.254.169.254/latest/meta-data/", "http://10.0.0.8/hook", "http://[::1]:8080/"]) {
      expect(await sender(true).send(message, { kind: "webhook", url }, signal)).toMatchObject({ ok: false, retryable: false, reason: "BLOCKED_URL" });
    }
    expect(receiver.requests).toHaveLength(before);
  });

  it("sends every header an alert may name: one the HTTP client would refuse is refused when the alert is made", async () => {
    const names = ["Expect", "Accept", "Authorization", "Cookie", "Date", "Origin", "Referer", "Via", "Forwarded", "Max-Forwards", "Range", "If-Match", "Priority", "X-Team"];
    const allowed = names.filter((name) => CreateAlertRequest.safeParse({ AlertName: "h", AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop", Action: { WebhookConfiguration: { Url: receiver.url, Headers: { [name]: "100-continue" } } } }).success);
    expect(allowed).toContain("X-Team");
    for (const name of allowed) {
      expect(await sender().send(message, { kind: "webhook", url: receiver.url, headers: { [name]: "100-continue" } }, signal), name).toEqual({ ok: true });
      expect(receiver.requests.at(-1)!.headers[name.toLowerCase()], name).toBe("100-continue");
    }
  });

  it("signs as documented: HMAC-SHA256 of '<timestamp>.<body>'", () => {
    // echo -n '1.{}' | openssl dgst -sha256 -hmac key
    expect(signatureOf("key", 1, "{}")).toBe("v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224");
  });
});
