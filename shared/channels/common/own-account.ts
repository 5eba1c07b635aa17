import { failed, type Sender } from "../../alerts/channel.ts";
import { ownsTarget, type Channel } from "../../model/alert.ts";
import { arnAccount } from "../../model/ids.ts";

type AwsChannel = Extract<Channel, { kind: "sns" | "lambda" }>;

/**
 * SNS and Lambda alerts reach only their own account's topics and functions (model/alert.ts):
 * CreateAlert and UpdateAlert refuse others, and an alert stored before they did is refused
 * here, finally (no retry can change whose topic it is), so its delivery is parked saying why.
 */
export function ownAccountOnly<C extends AwsChannel>(sender: Sender<C>): Sender<C> {
  return {
    send(message, channel, signal) {
      const account = arnAccount(message.alert.arn);
      if (ownsTarget(channel, account)) return sender.send(message, channel, signal);
      const target = channel.kind === "sns" ? `SNS topic ${channel.topicArn}` : `Lambda function ${channel.functionArn}`;
      return Promise.resolve(failed(false, "FOREIGN_TARGET", `the ${target} is not in the alert's account (${account}): an alert may reach only its own account's topics and functions; update the alert's action`));
    },
  };
}
