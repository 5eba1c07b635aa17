import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Channel } from "../../model/alert.ts";
import type { AlertMessage } from "../../alerts/message.ts";
import { l4mAlertJson } from "../common/l4m-alert.ts";
import { longText, shortText, subjectOf } from "../common/text.ts";
import type { Sender, SendResult } from "../../alerts/channel.ts";
import { classifyAwsError, untilAborted, type ActionClient } from "../common/aws-errors.ts";
import { arnAccount } from "../../model/ids.ts";
import { truncate } from "../common/format.ts";

/** SNS takes a subject of less than 100 characters, on one line (subjectOf keeps it to one). */
const SNS_SUBJECT_MAX = 99;

type SnsChannel = Extract<Channel, { kind: "sns" }>;

/** The body of an SNS alert in each of L4M's SnsFormats. */
export function snsBody(m: AlertMessage, format: SnsChannel["format"]): string {
  if (format === "JSON") return JSON.stringify(l4mAlertJson(m));
  return format === "LONG_TEXT" ? longText(m) : shortText(m);
}

/** Attributes SNS subscribers filter on (a subscription filter policy). */
export const snsAttributes = (m: AlertMessage) => ({
  severity: { DataType: "Number", StringValue: String(m.score) },
  severityBand: { DataType: "String", StringValue: m.severity },
  anomalyDetectorArn: { DataType: "String", StringValue: m.detector.arn },
  measure: { DataType: "String", StringValue: m.measure },
  anomalyGroupId: { DataType: "String", StringValue: m.anomalyGroupId },
  reason: { DataType: "String", StringValue: m.reason },
});

/** L4M's SNS action: publish to the alert's topic in its format, as the action's role assumed for the alert's account. */
export class SnsSender implements Sender<SnsChannel> {
  constructor(
    private readonly client: ActionClient<SNSClient>,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(message: AlertMessage, channel: SnsChannel, signal: AbortSignal): Promise<SendResult> {
    try {
      const client = this.client(channel.topicArn, channel.roleArn, arnAccount(message.alert.arn));
      const command = new PublishCommand({ TopicArn: channel.topicArn, Subject: truncate(subjectOf(message), SNS_SUBJECT_MAX), Message: snsBody(message, channel.format), MessageAttributes: snsAttributes(message) });
      await untilAborted(AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]), (abortSignal) => client.send(command, { abortSignal }));
      return { ok: true };
    } catch (e) {
      return classifyAwsError(e);
    }
  }
}
