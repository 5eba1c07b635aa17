import type { Alert } from "../model/alert.ts";
import { eventIdOf, type AnomalyGroupEvent, type Contributor, type GroupChart, type RelevantTimeSeries } from "../model/anomaly-event.ts";
import type { Direction } from "../model/anomaly.ts";
import { arnResourceName } from "../model/ids.ts";
import type { NotifyReason } from "./renotify.ts";
import { severityOf, type SeverityBand } from "./severity.ts";
import { signedQuery } from "./links.ts";

/**
 * Everything one alert message says, channel-neutral: each renderer (render/) lays the
 * same facts out for its medium, so Slack, email, SNS and webhooks never disagree.
 */
export interface AlertMessage {
  /** The delivery's idempotency key: alert, group and revision (or "end"). */
  readonly deliveryId: string;
  readonly eventId: string;
  readonly reason: Exclude<NotifyReason, "none">;
  readonly alert: { readonly name: string; readonly arn: string; readonly description: string | null };
  readonly detector: { readonly name: string; readonly arn: string };
  readonly metricSetArn: string;
  readonly anomalyGroupId: string;
  readonly score: number;
  readonly severity: SeverityBand;
  readonly color: string;
  readonly measure: string;
  readonly direction: Direction;
  readonly actual: number;
  readonly expected: number;
  /** (actual − expected) / expected in %; null when nothing was expected. */
  readonly changePercent: number | null;
  /** Epoch ms: the group's first interval, the interval reported, and the end of the group's last one. */
  readonly start: number;
  readonly at: number;
  readonly end: number;
  readonly ended: boolean;
  readonly contributors: readonly Contributor[];
  /** Every contributing value per dimension, for the primary measure (L4M's ContributionMatrix). */
  readonly contributions: readonly { readonly name: string; readonly values: readonly { readonly value: string; readonly share: number }[] }[];
  readonly relevantTimeSeries: readonly RelevantTimeSeries[];
  readonly chart: GroupChart;
  readonly links: { readonly anomalyGroup: string; readonly feedback: string };
}

export const deliveryIdOf = (alertArn: string, event: AnomalyGroupEvent) => `${arnResourceName(alertArn)}/${eventIdOf(event)}`;

/** Where links point, and the key that signs them (links.ts) so a person can open them without AWS credentials. */
export type LinkBase = string | { readonly publicUrl: string; readonly secret: string; readonly now: number };

/** Links into the API (`vigil serve` or the HTTP API) that a person can open. */
export function linksOf(base: LinkBase, event: AnomalyGroupEvent): AlertMessage["links"] {
  const publicUrl = typeof base === "string" ? base : base.publicUrl;
  // Group ids are unique across detectors: the id alone keeps links short.
  const group = `/anomaly-groups/${event.anomalyGroup.AnomalyGroupId}`;
  const url = (path: string) => `${publicUrl.replace(/\/+$/, "")}${path}${typeof base === "string" ? "" : `?${signedQuery(base.secret, path, base.now)}`}`;
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
