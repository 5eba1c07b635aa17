import { stableUuid } from "../../model/ids.ts";
import type { AlertMessage } from "../../alerts/message.ts";

/**
 * L4M's alert document, as SNS (SnsFormat JSON) and Lambda targets received it, field for
 * field (../l4m/payloads), with Vigil's additions beside L4M's fields, never instead.
 */
export function l4mAlertJson(m: AlertMessage) {
  return {
    alertName: m.alert.name,
    alertEventId: `${m.alert.arn}:event/${stableUuid(m.deliveryId)}`,
    anomalyDetectorArn: m.detector.arn,
    alertArn: m.alert.arn,
    alertDescription: m.alert.description,
    impactedMetric: {
      metricName: m.measure,
      dimensionContribution: dimensionContribution(m),
      relevantTimeSeries: m.relevantTimeSeries.map((s) => ({ timeSeriesId: s.timeSeriesId, dimensions: s.dimensions, metricValue: s.metricValue, expectedValue: s.expectedValue })),
    },
    timestamp: `${new Date(m.at).toISOString().slice(0, 16)}Z[UTC]`,
    anomalyScore: m.score,
    // Vigil's additions.
    anomalyGroupId: m.anomalyGroupId,
    metricSetArn: m.metricSetArn,
    severity: m.severity,
    notifyReason: m.reason,
    ended: m.ended,
    direction: m.direction,
    actualValue: m.actual,
    expectedValue: m.expected,
    changePercent: m.changePercent,
    startTime: new Date(m.start).toISOString(),
    endTime: new Date(m.end).toISOString(),
    links: m.links,
  };
}

function dimensionContribution(m: AlertMessage) {
  return m.contributions.map((d) => ({ dimensionName: d.name, dimensionValueContributions: d.values.map((v) => ({ dimensionValue: v.value, valueContribution: v.share })) }));
}
