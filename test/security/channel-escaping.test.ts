import { LambdaClient } from "@aws-sdk/client-lambda";
import { SNSClient } from "@aws-sdk/client-sns";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertMessage, type AlertMessage } from "../../shared/alerts/message.ts";
import { literalSecrets } from "../../shared/channels/common/secrets.ts";
import { EmailSender } from "../../shared/channels/email/sender.ts";
import { LambdaSender } from "../../shared/channels/lambda/sender.ts";
import { SlackSender } from "../../shared/channels/slack/sender.ts";
import { SnsSender } from "../../shared/channels/sns/sender.ts";
import { WebhookSender } from "../../shared/channels/webhook/sender.ts";
import { alertNamed, anomalyGroupEvent } from "../builders.ts";
import { startFakeLambda } from "../fakes/lambda-server.ts";
import { startFakeSns } from "../fakes/sns-server.ts";
import { HttpReceiver } from "../receivers/http-receiver.ts";
import { SmtpReceiver } from "../receivers/smtp-receiver.ts";

/** Dimension values a tenant's data can hold, each aimed at one channel's markup. */
const HOSTILE = [
  "<!channel>",
  "<https://evil.example/login|click me>",
  "<@U024BE7LH> &amp; `code` ```",
  "de\r\nBcc: victim@example.com\r\nDetails: https://evil.example",
  '"><img src=x onerror=alert(1)></td><script>alert(2)</script>',
  "\u202Eelgoog.com\u202C",
  "x".repeat(100_000),
];

function messageWith(values: readonly string[]): AlertMessage {
  const event = anomalyGroupEvent();
  const contributors = values.map((value, i) => ({ name: i === 0 ? "marketplace" : `dim${i}`, value, share: 100 - i }));
  const relevantTimeSeries = values.map((value, i) => ({ timeSeriesId: String(i).repeat(8), dimensions: [{ dimensionName: "marketplace", dimensionValue: value }], metricValue: 1, expectedValue: 2 }));
  return alertMessage(alertNamed("shop"), { ...event, summary: { ...event.summary, contributors, relevantTimeSeries } }, "first", "https://vigil.example.com");
}
const hostile = messageWith(HOSTILE);
const benign = messageWith(HOSTILE.map((_, i) => `value${i}`));
const signal = new AbortController().signal;
const credentials = { accessKeyId: "local", secretAccessKey: "local" };
/** The action's role: these clients sign with their own credentials, as the local mode does. */
const ROLE = "arn:aws:iam::000000000000:role/vigil-alerts";

/** Every mrkdwn string of a Slack payload, `text` included. */
function mrkdwnOf(payload: { text: string; attachments: { blocks: Record<string, unknown>[] }[] }): string[] {
  const out = [payload.text];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== "object" || node === null) return;
    const o = node as Record<string, unknown>;
    if (o["type"] === "mrkdwn" && typeof o["text"] === "string") out.push(o["text"]);
    Object.values(o).forEach(visit);
  };
  visit(payload.attachments);
  return out;
}

const tagsOf = (html: string) => [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>/g)].map((m) => m[0].replace(/>[^<]*$/, ">").replace(/title="[^"]*"/, 'title=""'));

describe("every channel, with hostile dimension values", () => {
  let http: HttpReceiver;
  let smtp: SmtpReceiver;
  beforeAll(async () => {
    http = await HttpReceiver.start();
    smtp = await SmtpReceiver.start();
  });
  afterAll(async () => {
    await http.stop();
    await smtp.stop();
  });

  it("Slack: the values are inert in `text` and in every block (no mention, no link, no broken code block), within Slack's sizes", async () => {
    const sender = new SlackSender({ secrets: literalSecrets, timeoutMs: 2000, blockPrivateAddresses: false, now: Date.now });
    expect(await sender.send(hostile, { kind: "slack", webhookUrl: `${http.url}/services/T/B/x` }, signal)).toEqual({ ok: true });
    const payload = JSON.parse(http.requests.at(-1)!.body) as Parameters<typeof mrkdwnOf>[0] & { link_names?: unknown };
    expect(payload.link_names).toBeUndefined();
    for (const text of mrkdwnOf(payload)) {
      // Slack's control characters appear only escaped: no <…> sequence Slack would parse.
      expect(text).not.toMatch(/[<>]/);
      expect(text.replace(/&(amp|lt|gt);/g, "")).not.toContain("&");
      expect(text.length).toBeLessThanOrEqual(3000);
    }
    expect(payload.text).toContain("&lt;!channel&gt;");
    const table = mrkdwnOf(payload).find((t) => t.startsWith("*Top contributors*"))!;
    expect(table).toContain("&lt;https://evil.example/login|click me&gt;");
    expect(table.match(/```/g)).toHaveLength(2);
    const header = payload.attachments[0]!.blocks[0] as { type: string; text: { type: string; text: string } };
    expect(header.text.type).toBe("plain_text");
    expect([...header.text.text].length).toBeLessThanOrEqual(150);
  });

  it("email: the HTML gains no tag or attribute, the subject stays one header, the text part gains no line", async () => {
    const sender = new EmailSender({ transport: async () => createTransport(smtp.url, { connectionTimeout: 2000 } as never), from: "vigil@example.com" });
    const channel = { kind: "email" as const, to: ["oncall@example.com"] };
    expect(await sender.send(benign, channel, signal)).toEqual({ ok: true });
    expect(await sender.send(hostile, channel, signal)).toEqual({ ok: true });
    const [plain, mail] = smtp.mails.slice(-2) as [NonNullable<(typeof smtp.mails)[0]>, NonNullable<(typeof smtp.mails)[0]>];
    expect(tagsOf(String(mail.html))).toEqual(tagsOf(String(plain.html)));
    expect(String(mail.html)).toContain("&lt;script&gt;");
    expect(mail.headers.has("bcc")).toBe(false);
    expect((Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((t) => t!.value.map((v) => v.address))).toEqual(["oncall@example.com"]);
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(String(mail.text).split("\n")).toHaveLength(String(plain.text).split("\n").length);
    expect(String(mail.text)).not.toMatch(/^Details: https:\/\/evil/m);
  });

  it("SNS: a subject SNS takes (one line, under 100 characters), and text formats gain no line", async () => {
    const topic = "arn:aws:sns:us-east-1:000000000000:alerts";
    const { endpoint, published } = await startFakeSns([topic]);
    const sender = new SnsSender(() => new SNSClient({ endpoint, region: "us-east-1", credentials, maxAttempts: 1 }));
    for (const format of ["LONG_TEXT", "SHORT_TEXT", "JSON"] as const) {
      expect(await sender.send(benign, { kind: "sns", roleArn: ROLE, topicArn: topic, format }, signal)).toEqual({ ok: true });
      expect(await sender.send(hostile, { kind: "sns", roleArn: ROLE, topicArn: topic, format }, signal)).toEqual({ ok: true });
      const [plain, sent] = published.slice(-2) as [(typeof published)[0], (typeof published)[0]];
      expect(sent!.subject).not.toMatch(/[\p{Cc}\u202e]/u);
      if (format !== "JSON") expect(sent!.message.split("\n")).toHaveLength(plain!.message.split("\n").length);
    }
    // JSON carries the values whole, for programs.
    expect(JSON.parse(published.at(-1)!.message).impactedMetric.relevantTimeSeries.map((t: { dimensions: { dimensionValue: string }[] }) => t.dimensions[0]!.dimensionValue)).toEqual(HOSTILE);
    // The subject names the first contributor: a line break there would make SNS refuse the message.
    for (const first of [HOSTILE[3]!, HOSTILE[5]!, HOSTILE[6]!]) {
      expect(await sender.send(messageWith([first]), { kind: "sns", roleArn: ROLE, topicArn: topic, format: "SHORT_TEXT" }, signal)).toEqual({ ok: true });
      expect(published.at(-1)!.subject).not.toMatch(/[\p{Cc}\u202e]/u);
    }
  });

  it("webhook and Lambda: JSON carries every value exactly as it is", async () => {
    const webhook = new WebhookSender({ secrets: literalSecrets, timeoutMs: 2000, blockPrivateAddresses: false, now: Date.now });
    expect(await webhook.send(hostile, { kind: "webhook", url: `${http.url}/hook` }, signal)).toEqual({ ok: true });
    expect((JSON.parse(http.requests.at(-1)!.body) as { contributors: { value: string }[] }).contributors.map((c) => c.value)).toEqual(HOSTILE);
    const fn = "arn:aws:lambda:us-east-1:000000000000:function:f";
    const { endpoint, invocations } = await startFakeLambda([fn]);
    const lambda = new LambdaSender(() => new LambdaClient({ endpoint, region: "us-east-1", credentials }));
    expect(await lambda.send(hostile, { kind: "lambda", roleArn: ROLE, functionArn: fn }, signal)).toEqual({ ok: true });
    const series = (JSON.parse(invocations[0]!.payload) as { impactedMetric: { relevantTimeSeries: { dimensions: { dimensionValue: string }[] }[] } }).impactedMetric.relevantTimeSeries;
    expect(series.map((s) => s.dimensions[0]!.dimensionValue)).toEqual(HOSTILE);
  });
});
