import type { Channel } from "../../model/alert.ts";
import { arnAccount } from "../../model/ids.ts";
import { slackMessage } from "./render.ts";
import type { Sender } from "../../alerts/channel.ts";
import { postToAlertUrl, type HttpChannelOptions } from "../common/http.ts";

/** Slack incoming webhooks: Block Kit JSON POSTed to the webhook URL (itself a secret). */
export class SlackSender implements Sender<Extract<Channel, { kind: "slack" }>> {
  constructor(private readonly options: HttpChannelOptions) {}

  send(message: Parameters<Sender["send"]>[0], channel: Extract<Channel, { kind: "slack" }>, signal: AbortSignal) {
    const owner = arnAccount(message.alert.arn);
    return postToAlertUrl(this.options, owner, async () => ({ url: await this.options.secrets.resolve(channel.webhookUrl, owner), body: JSON.stringify(slackMessage(message)) }), signal);
  }
}
