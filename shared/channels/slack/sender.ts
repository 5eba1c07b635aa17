import type { Channel } from "../../model/alert.ts";
import { slackMessage } from "../../alerts/render/slack.ts";
import type { Sender } from "../channel.ts";
import { failed } from "../channel.ts";
import { blockedReason } from "../address.ts";
import { post } from "../http.ts";
import { SecretUnavailable, type SecretResolver } from "../secrets.ts";

export interface HttpChannelOptions {
  readonly secrets: SecretResolver;
  readonly timeoutMs: number;
  /** AWS mode: refuse URLs that resolve to private, loopback or link-local addresses. */
  readonly blockPrivateAddresses: boolean;
  readonly now: () => number;
}

/** Slack incoming webhooks: Block Kit JSON POSTed to the webhook URL (itself a secret). */
export class SlackSender implements Sender<Extract<Channel, { kind: "slack" }>> {
  constructor(private readonly options: HttpChannelOptions) {}

  async send(message: Parameters<Sender["send"]>[0], channel: Extract<Channel, { kind: "slack" }>, signal: AbortSignal) {
    let url: string;
    try {
      url = await this.options.secrets.resolve(channel.webhookUrl);
    } catch (e) {
      if (e instanceof SecretUnavailable) return failed(true, "SECRET", e.message);
      throw e;
    }
    const refused = this.options.blockPrivateAddresses ? await blockedReason(url) : undefined;
    if (refused) return failed(false, "BLOCKED_URL", refused);
    return post(url, JSON.stringify(slackMessage(message)), { timeoutMs: this.options.timeoutMs, signal, now: this.options.now });
  }
}
