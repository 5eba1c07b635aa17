import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { Channel } from "../../model/alert.ts";
import type { AlertMessage } from "../../alerts/message.ts";
import { l4mAlertJson } from "../common/l4m-alert.ts";
import { failed, type Sender, type SendResult } from "../../alerts/channel.ts";
import { classifyAwsError, untilAborted, type ActionClient } from "../common/aws-errors.ts";
import { arnAccount } from "../../model/ids.ts";

type LambdaChannel = Extract<Channel, { kind: "lambda" }>;

/** L4M's Lambda action: the function is invoked asynchronously with L4M's alert document, as the action's role assumed for the alert's account. */
export class LambdaSender implements Sender<LambdaChannel> {
  constructor(
    private readonly client: ActionClient<LambdaClient>,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(message: AlertMessage, channel: LambdaChannel, signal: AbortSignal): Promise<SendResult> {
    try {
      const client = this.client(channel.functionArn, channel.roleArn, arnAccount(message.alert.arn));
      const command = new InvokeCommand({ FunctionName: channel.functionArn, InvocationType: "Event", Payload: new TextEncoder().encode(JSON.stringify(l4mAlertJson(message))) });
      const out = await untilAborted(AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]), (abortSignal) => client.send(command, { abortSignal }));
      return out.StatusCode === 202 ? { ok: true } : failed(true, "AWS", `Invoke answered ${out.StatusCode}`);
    } catch (e) {
      return classifyAwsError(e);
    }
  }
}
