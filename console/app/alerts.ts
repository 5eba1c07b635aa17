import type { AlertAction, AlertFilters, AlertDetail } from "./wire.ts";

/** The channels an alert may send to: L4M's two and Vigil's three. */
export const CHANNELS = ["WEBHOOK", "SLACK", "EMAIL", "SNS", "LAMBDA"] as const;
export type ChannelName = (typeof CHANNELS)[number];

export const CHANNEL_LABELS: Record<ChannelName, string> = { WEBHOOK: "Webhook", SLACK: "Slack", EMAIL: "Email", SNS: "Amazon SNS topic", LAMBDA: "AWS Lambda function" };

/** What the alert form holds, as text: one field per input. */
export interface AlertForm {
  readonly name: string;
  readonly description: string;
  readonly threshold: string;
  readonly channel: ChannelName;
  /** Webhook URL, Slack webhook URL, SNS topic ARN or Lambda function ARN; email addresses, comma-separated. */
  readonly target: string;
  /** The webhook's signing secret (optional). */
  readonly secret: string;
  /** The webhook's extra headers, a line each: `Name: value` (optional). */
  readonly headers: string;
  /** The role SNS and Lambda are called as. */
  readonly role: string;
  readonly snsFormat: "JSON" | "LONG_TEXT" | "SHORT_TEXT";
  readonly measures: readonly string[];
  readonly dimension: string;
  /** Comma-separated. */
  readonly values: string;
}

export const EMPTY_FORM: AlertForm = { name: "", description: "", threshold: "70", channel: "WEBHOOK", target: "", secret: "", headers: "", role: "", snsFormat: "JSON", measures: [], dimension: "", values: "" };

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The webhook's headers the form names, or what is wrong with a line. The server checks names and values. */
export function headersOf(form: AlertForm): Record<string, string> | undefined {
  const lines = form.headers.split("\n").filter((l) => l.trim());
  if (!lines.length) return undefined;
  return Object.fromEntries(
    lines.map((line) => {
      const at = line.indexOf(":");
      if (at <= 0) throw new RangeError(`A header is a line "Name: value": "${line.trim()}" is not`);
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    }),
  );
}

/** Where the form says to send, as the operations take it. The server checks the values. */
export function actionOf(form: AlertForm): AlertAction {
  const target = form.target.trim();
  switch (form.channel) {
    case "WEBHOOK": {
      const headers = headersOf(form);
      return { WebhookConfiguration: { Url: target, ...(form.secret ? { Secret: form.secret } : {}), ...(headers ? { Headers: headers } : {}) } };
    }
    case "SLACK":
      return { SlackConfiguration: { WebhookUrl: target } };
    case "EMAIL":
      return { EmailConfiguration: { To: list(form.target) } };
    case "SNS":
      return { SNSConfiguration: { SnsTopicArn: target, RoleArn: form.role.trim(), SnsFormat: form.snsFormat } };
    case "LAMBDA":
      return { LambdaConfiguration: { LambdaArn: target, RoleArn: form.role.trim() } };
  }
}

/** The filters the form names; `{}` (every incident) when it names none, so an edit can clear them. */
export function filtersOf(form: AlertForm): AlertFilters {
  const values = list(form.values);
  return {
    ...(form.measures.length ? { MetricList: [...form.measures] } : {}),
    ...(form.dimension && values.length ? { DimensionFilterList: [{ DimensionName: form.dimension, DimensionValueList: values }] } : {}),
  };
}

/** A number from 0 to 100, or what is wrong with it. */
export function thresholdOf(form: AlertForm): number {
  const t = Number(form.threshold);
  if (form.threshold.trim() === "" || !Number.isInteger(t) || t < 0 || t > 100) throw new RangeError("The least severity is a whole number from 0 to 100");
  return t;
}

/**
 * The form an alert is edited with. Its channel's settings are shown as the server answers
 * them (secrets hidden): an edit sends them again only when they are changed.
 */
export function formOf(alert: AlertDetail): AlertForm {
  const a = alert.Action;
  const filters = alert.AlertFilters ?? {};
  const dimension = filters.DimensionFilterList?.[0];
  const base = { ...EMPTY_FORM, name: alert.AlertName, description: alert.AlertDescription ?? "", threshold: String(alert.AlertSensitivityThreshold), measures: filters.MetricList ?? [], dimension: dimension?.DimensionName ?? "", values: dimension?.DimensionValueList.join(", ") ?? "" };
  if (a.WebhookConfiguration) return { ...base, channel: "WEBHOOK", target: a.WebhookConfiguration.Url };
  if (a.SlackConfiguration) return { ...base, channel: "SLACK", target: a.SlackConfiguration.WebhookUrl };
  if (a.EmailConfiguration) return { ...base, channel: "EMAIL", target: a.EmailConfiguration.To.join(", ") };
  if (a.SNSConfiguration) return { ...base, channel: "SNS", target: a.SNSConfiguration.SnsTopicArn, role: a.SNSConfiguration.RoleArn, snsFormat: a.SNSConfiguration.SnsFormat ?? "JSON" };
  return { ...base, channel: "LAMBDA", target: a.LambdaConfiguration?.LambdaArn ?? "", role: a.LambdaConfiguration?.RoleArn ?? "" };
}

/** Where an alert sends, in words (secrets as the server hid them). */
export function targetText(alert: AlertDetail): string {
  const a = alert.Action;
  if (a.WebhookConfiguration) return a.WebhookConfiguration.Url;
  if (a.SlackConfiguration) return a.SlackConfiguration.WebhookUrl;
  if (a.EmailConfiguration) return a.EmailConfiguration.To.join(", ");
  if (a.SNSConfiguration) return a.SNSConfiguration.SnsTopicArn;
  return a.LambdaConfiguration?.LambdaArn ?? "";
}

/** What an alert is limited to, in words. */
export function filterText(filters: AlertFilters | undefined): string {
  const parts = [
    ...(filters?.MetricList?.length ? [`measure ${filters.MetricList.join(" or ")}`] : []),
    ...(filters?.DimensionFilterList ?? []).map((d) => `${d.DimensionName} ${d.DimensionValueList.join(" or ")}`),
  ];
  return parts.join("; ") || "every incident";
}
