import type { Channel } from "../../model/alert.ts";
import { arnAccount } from "../../model/ids.ts";
import { webhookBody } from "./render.ts";
import type { Sender } from "../../alerts/channel.ts";
import { postToAlertUrl, type HttpChannelOptions } from "../common/http.ts";
import { DELIVERY_HEADER, SIGNATURE_HEADER, signatureOf, TIMESTAMP_HEADER } from "./signature.ts";

type WebhookChannel = Extract<Channel, { kind: "webhook" }>;

/** Generic webhooks: the versioned JSON body, signed when the alert has a secret. */
export class WebhookSender implements Sender<WebhookChannel> {
  constructor(private readonly options: HttpChannelOptions) {}

  send(message: Parameters<Sender["send"]>[0], channel: WebhookChannel, signal: AbortSignal) {
    const owner = arnAccount(message.alert.arn);
    return postToAlertUrl(
      this.options,
      owner,
      async () => {
        const { secrets, now } = this.options;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(channel.headers ?? {})) headers[k] = await secrets.resolve(v, owner);
        const secret = channel.secret === undefined ? undefined : await secrets.resolve(channel.secret, owner);
        // Encoded once: the bytes signed are the bytes sent.
        const body = Buffer.from(JSON.stringify(webhookBody(message)));
        const timestamp = Math.floor(now() / 1000);
        headers[DELIVERY_HEADER] = message.deliveryId;
        headers[TIMESTAMP_HEADER] = String(timestamp);
        if (secret !== undefined) headers[SIGNATURE_HEADER] = signatureOf(secret, timestamp, body);
        return { url: channel.url, body, headers };
      },
      signal,
    );
  }
}
