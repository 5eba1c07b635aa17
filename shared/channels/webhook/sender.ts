import type { Channel } from "../../model/alert.ts";
import { webhookBody } from "../../alerts/render/webhook.ts";
import { failed, type Sender } from "../channel.ts";
import { blockedReason } from "../address.ts";
import { post } from "../http.ts";
import { SecretUnavailable } from "../secrets.ts";
import type { HttpChannelOptions } from "../slack/sender.ts";
import { DELIVERY_HEADER, SIGNATURE_HEADER, signatureOf, TIMESTAMP_HEADER } from "./signature.ts";

type WebhookChannel = Extract<Channel, { kind: "webhook" }>;

/** Generic webhooks: the versioned JSON body, signed when the alert has a secret. */
export class WebhookSender implements Sender<WebhookChannel> {
  constructor(private readonly options: HttpChannelOptions) {}

  async send(message: Parameters<Sender["send"]>[0], channel: WebhookChannel, signal: AbortSignal) {
    const refused = this.options.blockPrivateAddresses ? await blockedReason(channel.url) : undefined;
    if (refused) return failed(false, "BLOCKED_URL", refused);
    let secret: string | undefined;
    const headers: Record<string, string> = {};
    try {
      secret = channel.secret === undefined ? undefined : await this.options.secrets.resolve(channel.secret);
      for (const [k, v] of Object.entries(channel.headers ?? {})) headers[k] = await this.options.secrets.resolve(v);
    } catch (e) {
      if (e instanceof SecretUnavailable) return failed(true, "SECRET", e.message);
      throw e;
    }
    const body = JSON.stringify(webhookBody(message));
    const timestamp = Math.floor(this.options.now() / 1000);
    headers[DELIVERY_HEADER] = message.deliveryId;
    headers[TIMESTAMP_HEADER] = String(timestamp);
    if (secret !== undefined) headers[SIGNATURE_HEADER] = signatureOf(secret, timestamp, body);
    return post(channel.url, body, { headers, timeoutMs: this.options.timeoutMs, signal, now: this.options.now });
  }
}
