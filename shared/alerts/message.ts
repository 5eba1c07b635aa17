import * as z from "../model/zod.ts";
import type { Alert } from "../model/alert.ts";
import { ContributorSchema, eventIdOf, GroupChartSchema, RelevantTimeSeriesSchema, type AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { arnAccount, arnResourceName } from "../model/ids.ts";
import type { NotifyReason } from "./renotify.ts";
import { SEVERITY_BANDS, severityOf, type SeverityBand } from "./severity.ts";
import { signedQuery } from "./links.ts";

const num = z.number();

/**
 * Everything one alert message says, channel-neutral: each channel's renderer lays the
 * same facts out for its medium, so Slack, email, SNS and webhooks never disagree. It
 * travels from alerting to delivery (an SQS message in AWS), so it is a schema: the
 * deliver step checks what it receives. Times are epoch ms: the group's first interval
 * (`start`), the interval reported (`at`) and the end of the group's last one (`end`);
 * `changePercent` is (actual − expected) / expected in %, null when nothing was expected;
 * `contributions` lists every contributing value per dimension of the primary measure
 * (L4M's ContributionMatrix).
 */
export const AlertMessageSchema = z.strictObject({
  /** The delivery's idempotency key: alert, group and revision (or "end"). */
  deliveryId: z.string().check(z.minLength(1), z.maxLength(1024)),
  eventId: z.string(),
  reason: z.enum(["first", "severityChanged", "grew", "repeatElapsed", "ended"]) satisfies z.ZodMiniType<Exclude<NotifyReason, "none">>,
  alert: z.strictObject({ name: z.string(), arn: z.string(), description: z.nullable(z.string()) }),
  detector: z.strictObject({ name: z.string(), arn: z.string() }),
  metricSetArn: z.string(),
  anomalyGroupId: z.string(),
  score: num,
  severity: z.enum(SEVERITY_BANDS.map((b) => b.band) as [SeverityBand, ...SeverityBand[]]),
  color: z.string(),
  measure: z.string(),
  direction: z.enum(["UP", "DOWN"]),
  actual: num,
  expected: num,
  changePercent: z.nullable(num),
  start: num,
  at: num,
  end: num,
  ended: z.boolean(),
  contributors: z.readonly(z.array(ContributorSchema).check(z.maxLength(100))),
  contributions: z.readonly(z.array(z.strictObject({ name: z.string(), values: z.readonly(z.array(z.strictObject({ value: z.string(), share: num }))) }))),
  relevantTimeSeries: z.readonly(z.array(RelevantTimeSeriesSchema).check(z.maxLength(100))),
  chart: GroupChartSchema,
  links: z.strictObject({ anomalyGroup: z.string(), feedback: z.string() }),
});
export type AlertMessage = z.infer<typeof AlertMessageSchema>;

export const deliveryIdOf = (alertArn: string, event: AnomalyGroupEvent) => `${arnResourceName(alertArn)}/${eventIdOf(event)}`;

/** Where links point, and the key that signs them (links.ts) so a person can open them without AWS credentials. */
export type LinkBase = string | { readonly publicUrl: string; readonly secret: string; readonly now: number };

/** Links into the API (`vigil serve` or the HTTP API) that a person can open. */
export function linksOf(base: LinkBase, event: AnomalyGroupEvent): AlertMessage["links"] {
  const publicUrl = typeof base === "string" ? base : base.publicUrl;
  // Group ids are unique across detectors: the id alone keeps links short; the account is signed into the query.
  const group = `/anomaly-groups/${event.anomalyGroup.AnomalyGroupId}`;
  const url = (path: string) => `${publicUrl.replace(/\/+$/, "")}${path}${typeof base === "string" ? "" : `?${signedQuery(base.secret, path, arnAccount(event.anomalyDetectorArn), base.now)}`}`;
  return { anomalyGroup: url(group), feedback: url(`${group}/feedback`) };
}

export function alertMessage(alert: Pick<Alert, "AlertName" | "AlertArn" | "AlertDescription">, event: AnomalyGroupEvent, reason: AlertMessage["reason"], publicUrl: LinkBase): AlertMessage {
  const g = event.anomalyGroup;
  const s = event.summary;
  const severity = severityOf(g.AnomalyGroupScore);
  const end = Date.parse(g.EndTime) + event.intervalMs;
  return {
    deliveryId: deliveryIdOf(alert.AlertArn, event),
    eventId: eventIdOf(event),
    reason,
    alert: { name: alert.AlertName, arn: alert.AlertArn, description: alert.AlertDescription ?? null },
    detector: { name: arnResourceName(event.anomalyDetectorArn), arn: event.anomalyDetectorArn },
    metricSetArn: event.metricSetArn,
    anomalyGroupId: g.AnomalyGroupId,
    score: g.AnomalyGroupScore,
    severity: severity.band,
    color: severity.color,
    measure: s.measure,
    direction: s.direction,
    actual: s.actual,
    expected: s.expected,
    changePercent: s.expected !== 0 ? round1((100 * (s.actual - s.expected)) / Math.abs(s.expected)) : null,
    start: Date.parse(g.StartTime),
    at: event.intervalStart,
    end,
    ended: event.type === "AnomalyGroupEnded",
    contributors: s.contributors,
    contributions: (g.MetricLevelImpactList.find((i) => i.MetricName === s.measure)?.ContributionMatrix.DimensionContributionList ?? []).map((d) => ({
      name: d.DimensionName,
      values: d.DimensionValueContributionList.map((v) => ({ value: v.DimensionValue, share: v.ContributionScore })),
    })),
    relevantTimeSeries: s.relevantTimeSeries,
    chart: s.chart,
    links: linksOf(publicUrl, event),
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
