import type { Transporter } from "nodemailer";
import type { Channel } from "../../model/alert.ts";
import { emailMessage } from "./render.ts";
import { failed, type Sender, type SendResult } from "../../alerts/channel.ts";
import { connectionFailure } from "../common/connection-failure.ts";
import { SecretUnavailable } from "../common/secrets.ts";

type EmailChannel = Extract<Channel, { kind: "email" }>;

/**
 * Email over SMTP (nodemailer): any SMTP server locally, Amazon SES's SMTP interface in
 * AWS. SMTP's own codes say what to retry: 4xx is transient, 5xx is final.
 */
export class EmailSender implements Sender<EmailChannel> {
  constructor(private readonly options: { transport: () => Promise<Transporter>; from: string }) {}

  async send(message: Parameters<Sender["send"]>[0], channel: EmailChannel, signal: AbortSignal): Promise<SendResult> {
    if (signal.aborted) return failed(true, "TIMEOUT", "the invocation ran out of time");
    const { subject, text, html } = emailMessage(message);
    try {
      const transport = await this.options.transport();
      await transport.sendMail({
        // Always the deployment's address, which its mail service verified: an alert's own From is where replies go, so one tenant cannot mail as another, or as the operator.
        from: this.options.from,
        ...(channel.from ? { replyTo: channel.from } : {}),
        to: [...channel.to],
        subject,
        text,
        html,
        headers: { "X-Vigil-Delivery-Id": message.deliveryId, "X-Vigil-Anomaly-Group-Id": message.anomalyGroupId },
        // The invocation's end closes the connection, as it ends an HTTP request: a send held past it would keep its delivery's lease with nobody left to give it back.
        signal,
      });
      return { ok: true };
    } catch (e) {
      if (signal.aborted) return failed(true, "TIMEOUT", "the invocation ran out of time");
      // The mail server's settings are the operator's secret: a tenant is told they could not be read, not why (its name, the role that read it).
      if (e instanceof SecretUnavailable) return failed(true, "SECRET", "the mail server's settings could not be read");
      return classifySmtpError(e);
    }
  }
}

export function classifySmtpError(e: unknown): SendResult {
  const err = e as { responseCode?: number; code?: string; message?: string };
  if (typeof err.responseCode === "number") return failed(err.responseCode < 500, "SMTP", `SMTP ${err.responseCode}: ${err.message ?? ""}`.trim());
  if (err.code === "ETIMEDOUT") return failed(true, "TIMEOUT", "the SMTP server did not answer in time");
  return failed(true, "NETWORK", `SMTP: ${connectionFailure(e)}`);
}
