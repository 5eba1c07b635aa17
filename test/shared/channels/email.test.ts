import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { textChart } from "../../../shared/channels/common/chart.ts";
import { EmailSender } from "../../../shared/channels/email/sender.ts";
import { SecretUnavailable } from "../../../shared/channels/common/secrets.ts";
import { alertNamed, anomalyGroupEvent } from "../../builders.ts";
import { SmtpReceiver } from "../../receivers/smtp-receiver.ts";

const message = alertMessage(alertNamed("a"), anomalyGroupEvent(), "first", "http://localhost:8087");
const signal = new AbortController().signal;
const channel = { kind: "email" as const, to: ["oncall@example.com", "lead@example.com"] };

describe("email sender against a real SMTP server", () => {
  let smtp: SmtpReceiver;
  let sender: EmailSender;
  beforeAll(async () => {
    smtp = await SmtpReceiver.start();
    const transport = createTransport({ url: smtp.url, connectionTimeout: 2000 });
    sender = new EmailSender({ transport: async () => transport, from: "Vigil <vigil@example.com>" });
  });
  afterAll(() => smtp.stop());

  it("sends one message with an HTML and a text part holding the same facts and the chart", async () => {
    expect(await sender.send(message, channel, signal)).toEqual({ ok: true });
    const mail = smtp.mails.at(-1)!;
    expect(mail.subject).toContain("revenue");
    expect(mail.from?.value[0]).toMatchObject({ name: "Vigil", address: "vigil@example.com" });
    expect((Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((t) => t!.value.map((v) => v.address))).toEqual(["oncall@example.com", "lead@example.com"]);
    expect(mail.headers.get("x-vigil-delivery-id")).toBe(message.deliveryId);
    for (const fact of ["91.5", "marketplace=de", "−60%", message.links.feedback]) {
      expect(mail.text).toContain(fact);
      expect(mail.html).toContain(fact);
    }
    expect(mail.text).toContain(textChart(message.chart)[0]);
    expect(mail.html).toContain(textChart(message.chart)[0]);
  });

  it("sends from the deployment's address whatever the alert's From, which becomes where replies go: a tenant cannot mail as another", async () => {
    expect(await sender.send(message, { ...channel, from: "security@operator.example" }, signal)).toEqual({ ok: true });
    const mail = smtp.mails.at(-1)!;
    expect(mail.from?.value[0]).toMatchObject({ address: "vigil@example.com" });
    expect(mail.replyTo?.value[0]).toMatchObject({ address: "security@operator.example" });
  });

  it("tells a tenant that the mail server's settings could not be read, not why (the operator's secret's name and the role that read it)", async () => {
    const unread = new EmailSender({
      transport: () => Promise.reject(new SecretUnavailable({ source: "secretsmanager", id: "vigil/smtp" }, "cannot read secretsmanager secret vigil/smtp (AccessDeniedException)")),
      from: "vigil@example.com",
    });
    expect(await unread.send(message, channel, signal)).toEqual({ ok: false, retryable: true, reason: "SECRET", detail: "the mail server's settings could not be read" });
  });

  it("takes SMTP 4xx as worth another try and 5xx as final", async () => {
    smtp.reject(451, "try again later");
    expect(await sender.send(message, channel, signal)).toMatchObject({ ok: false, retryable: true, reason: "SMTP" });
    smtp.reject(550, "mailbox unavailable");
    expect(await sender.send(message, channel, signal)).toMatchObject({ ok: false, retryable: false, reason: "SMTP" });
  });

  it("tells a send some recipients refused at RCPT TO as failed for those alone, naming them: the others took it", async () => {
    smtp.refuseRecipient("lead@example.com", 450, "4.2.0 Greylisted, try again later", 1);
    const before = smtp.deliveredTo.length;
    expect(await sender.send(message, channel, signal)).toEqual({
      ok: false,
      retryable: true,
      reason: "SMTP",
      detail: "SMTP refused 1 of 2 recipients: lead@example.com (450 4.2.0 Greylisted, try again later)",
      accepted: ["oncall@example.com"],
    });
    expect(smtp.deliveredTo.slice(before)).toEqual([["oncall@example.com"]]);
    smtp.refuseRecipient("lead@example.com", 550, "5.1.1 No such user", 1);
    expect(await sender.send(message, channel, signal)).toMatchObject({ ok: false, retryable: false, reason: "SMTP", accepted: ["oncall@example.com"] });
  });

  it("keeps of a refusal's server text one line of 80 characters at most", async () => {
    smtp.refuseRecipient("lead@example.com", 550, `5.7.1 ${"blocked by policy, see the operator's page ".repeat(20)}`, 1);
    const result = await sender.send(message, channel, signal);
    expect(result).toMatchObject({ ok: false, retryable: false, accepted: ["oncall@example.com"] });
    const detail = (result as { detail: string }).detail;
    const text = detail.slice(detail.indexOf("(") + 1, -1);
    expect(text.startsWith("550 5.7.1 blocked by policy")).toBe(true);
    expect(text.length).toBeLessThanOrEqual(80);
    expect(text.endsWith("…")).toBe(true);
  });

  it("tells a send every recipient refused as failed, naming each: worth another try when one refusal is", async () => {
    smtp.refuseRecipient("oncall@example.com", 550, "5.1.1 No such user", 1).refuseRecipient("lead@example.com", 451, "4.3.0 Try again later", 1);
    expect(await sender.send(message, channel, signal)).toEqual({
      ok: false,
      retryable: true,
      reason: "SMTP",
      detail: "SMTP refused 2 of 2 recipients: oncall@example.com (550 5.1.1 No such user), lead@example.com (451 4.3.0 Try again later)",
    });
  });

  it("stops a send the invocation's end aborts, a server stuck after DATA included: the delivery goes back on the queue, not held past the invocation's end by the server's wait", async () => {
    smtp.hang();
    const patient = createTransport({ url: smtp.url, socketTimeout: 30_000 });
    const sending = new EmailSender({ transport: async () => patient, from: "vigil@example.com" });
    const before = smtp.mails.length;
    const started = Date.now();
    expect(await sending.send(message, channel, AbortSignal.timeout(300))).toEqual({ ok: false, retryable: true, reason: "TIMEOUT", detail: "the invocation ran out of time" });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(smtp.mails.length).toBe(before);
  });

  it("takes a server that is not there as a retryable network failure, told by its kind, not the server's address", async () => {
    const gone = new EmailSender({ transport: async () => createTransport({ url: "smtp://127.0.0.1:9", connectionTimeout: 500 }), from: "vigil@example.com" });
    expect(await gone.send(message, channel, signal)).toEqual({ ok: false, retryable: true, reason: "NETWORK", detail: "SMTP: the connection was refused (ECONNREFUSED)" });
  });
});
