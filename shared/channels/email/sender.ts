import type { Transporter } from "nodemailer";
import type { Channel } from "../../model/alert.ts";
import { emailMessage } from "./render.ts";
import { failed, type Sender, type SendResult } from "../../alerts/channel.ts";
import { connectionFailure } from "../common/connection-failure.ts";
import { SecretUnavailable } from "../common/secrets.ts";
import { cutText } from "../../model/cut.ts";

type EmailChannel = Extract<Channel, { kind: "email" }>;

/**
 * Email over SMTP (nodemailer): any SMTP server locally, Amazon SES's SMTP interface in
 * AWS. SMTP's own codes say what to retry: 4xx is transient, 5xx is final. A server may
 * refuse some recipients (RCPT TO) and take the message for the others: nodemailer then
 * answers without an error, and the send is told as failed for the refused ones only
 * (`accepted` names the others, which are done).
 */
export class EmailSender implements Sender<EmailChannel> {
  constructor(private readonly options: { transport: () => Promise<Transporter>; from: string }) {}

  async send(message: Parameters<Sender["send"]>[0], channel: EmailChannel, signal: AbortSignal): Promise<SendResult> {
    if (signal.aborted) return failed(true, "TIMEOUT", "the invocation ran out of time");
    const { subject, text, html } = emailMessage(message);
    try {
      const transport = await this.options.transport();
      const info: Envelope = await transport.sendMail({
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
      return info.rejected?.length ? refusedIn(info, channel.to) : { ok: true };
    } catch (e) {
      if (signal.aborted) return failed(true, "TIMEOUT", "the invocation ran out of time");
      // The mail server's settings are the operator's secret: a tenant is told they could not be read, not why (its name, the role that read it).
      if (e instanceof SecretUnavailable) return failed(true, "SECRET", "the mail server's settings could not be read");
      return classifySmtpError(e);
    }
  }
}

export function classifySmtpError(e: unknown): SendResult {
  const err = e as { responseCode?: number; code?: string; message?: string } & Envelope;
  // Every recipient refused at RCPT TO: told per recipient, as a partial refusal is.
  if (err.rejected?.length) return refusedIn(err, []);
  if (typeof err.responseCode === "number") return failed(err.responseCode < 500, "SMTP", `SMTP ${err.responseCode}: ${err.message ?? ""}`.trim());
  if (err.code === "ETIMEDOUT") return failed(true, "TIMEOUT", "the SMTP server did not answer in time");
  return failed(true, "NETWORK", `SMTP: ${connectionFailure(e)}`);
}

/** What nodemailer tells of the envelope: the recipients the server took and refused, with each refusal. */
interface Envelope {
  readonly accepted?: readonly unknown[];
  readonly rejected?: readonly unknown[];
  readonly rejectedErrors?: readonly { readonly recipient?: unknown; readonly responseCode?: number; readonly response?: unknown }[];
}

/** Of a server's answer, this many characters at most, its first line: a tenant reads it as the delivery's last error. */
export const SERVER_TEXT_CHARS = 80;

/** An address as nodemailer may give it back (its domain lower-cased). */
const keyOf = (address: unknown) => String(address).trim().toLowerCase();

/**
 * Some recipients refused: the others (`to`'s, as the alert names them) are done. Worth
 * another try when any refusal is (4xx, greylisting): a retry goes to the refused alone, and
 * a recipient refused for good (5xx) is refused again without being mailed. Final (parked)
 * when every refusal is.
 */
function refusedIn(envelope: Envelope, to: readonly string[]): SendResult {
  const refused = (envelope.rejected ?? []).map((recipient) => {
    const error = envelope.rejectedErrors?.find((r) => keyOf(r.recipient) === keyOf(recipient));
    return { address: String(recipient), code: error?.responseCode, text: serverText(error?.response) };
  });
  const took = new Set((envelope.accepted ?? []).map(keyOf));
  const accepted = to.filter((address) => took.has(keyOf(address)));
  const retryable = refused.some((r) => r.code === undefined || r.code < 500);
  const each = refused.map((r) => `${r.address} (${r.text || (r.code !== undefined ? `SMTP ${r.code}` : "refused")})`);
  const detail = `SMTP refused ${refused.length} of ${refused.length + accepted.length} recipients: ${each.join(", ")}`;
  return { ...failed(retryable, "SMTP", detail), ...(accepted.length ? { accepted } : {}) };
}

/** A server's answer on one line, cut: never a long text of the server's, nor its line breaks. */
function serverText(response: unknown): string {
  if (typeof response !== "string") return "";
  const line = response.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/\s+/g, " ").trim();
  return cutText(line, SERVER_TEXT_CHARS, "…");
}
