import type { AlertMessage } from "../../alerts/message.ts";

/**
 * The webhook body: a stable, versioned schema (docs/webhooks.md). Fields are only ever
 * added within a version; a change that breaks a reader gets a new `schema`.
 */
export const WEBHOOK_SCHEMA = "vigil.alert/v1";

export function webhookBody(m: AlertMessage) {
  return {
    schema: WEBHOOK_SCHEMA,
    deliveryId: m.deliveryId,
    eventId: m.eventId,
    reason: m.reason,
    alert: m.alert,
    detector: m.detector,
    metricSetArn: m.metricSetArn,
    anomalyGroup: {
      id: m.anomalyGroupId,
      score: m.score,
      severity: m.severity,
      startTime: new Date(m.start).toISOString(),
      endTime: new Date(m.end).toISOString(),
      ended: m.ended,
    },
    measure: m.measure,
    direction: m.direction,
    actual: m.actual,
    expected: m.expected,
    changePercent: m.changePercent,
    contributors: m.contributors,
    contributions: m.contributions,
    relevantTimeSeries: m.relevantTimeSeries,
    chart: m.chart,
    links: m.links,
  };
}
