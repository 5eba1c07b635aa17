import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Channel } from "../model/alert.ts";
import type { AlertMessage } from "../alerts/message.ts";
import { l4mAlertJson } from "./common/l4m-alert.ts";
import type { Sender, SendResult } from "../alerts/channel.ts";
import { snsBody } from "./sns/sender.ts";

type AwsChannel = Extract<Channel, { kind: "sns" | "lambda" }>;

/**
 * The local mode's SNS topics and Lambda functions: with no AWS account, what would be
 * published or invoked is appended, one JSON line each, to `<dir>/sns.jsonl` or
 * `<dir>/lambda.jsonl`, exactly as it would be sent.
 */
export class OutboxSender implements Sender<AwsChannel> {
  constructor(private readonly dir: string) {}

  async send(message: AlertMessage, channel: AwsChannel): Promise<SendResult> {
    await mkdir(this.dir, { recursive: true });
    const line =
      channel.kind === "sns"
        ? { TopicArn: channel.topicArn, SnsFormat: channel.format, Message: snsBody(message, channel.format) }
        : { FunctionName: channel.functionArn, Payload: l4mAlertJson(message) };
    await appendFile(join(this.dir, `${channel.kind}.jsonl`), `${JSON.stringify({ deliveryId: message.deliveryId, ...line })}\n`);
    return { ok: true };
  }
}
