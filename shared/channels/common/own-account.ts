import { failed, type Sender } from "../../alerts/channel.ts";
import type { ActionIdentity, Channel } from "../../model/alert.ts";
import { madeOnFirstUse } from "../../model/first-use.ts";
import { arnAccount } from "../../model/ids.ts";

type AwsChannel = Extract<Channel, { kind: "sns" | "lambda" }>;

/** The alerts' model, loaded by the first send and kept: functions that send none never load it. */
const alertModel = madeOnFirstUse(() => import("../../model/alert.ts"));

/**
 * SNS and Lambda alerts name only their own account's role, and, sent as Vigil itself, its
 * topics and functions (model/alert.ts): CreateAlert and UpdateAlert refuse others, and an
 * alert stored before they did is refused here, finally (no retry can change whose ARN it
 * is), so its delivery is parked saying why.
 */
export function ownAccountOnly<C extends AwsChannel>(sender: Sender<C>, as: ActionIdentity): Sender<C> {
  return {
    async send(message, channel, signal) {
      const account = arnAccount(message.alert.arn);
      const foreign = (await alertModel()).foreignArn(channel, account, as);
      if (!foreign) return sender.send(message, channel, signal);
      const detail =
        foreign.part === "role"
          ? `the role ${channel.roleArn} is not in the alert's account (${account}): an alert's SNS and Lambda actions are sent as its RoleArn, a role of its own account; update the alert's action`
          : `the ${channel.kind === "sns" ? `SNS topic ${channel.topicArn}` : `Lambda function ${channel.functionArn}`} is not in the alert's account (${account}): an alert may reach only its own account's topics and functions; update the alert's action`;
      return failed(false, "FOREIGN_TARGET", detail);
    },
  };
}
