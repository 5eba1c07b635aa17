import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { DueRun } from "../detect/run-due.ts";
import type { IngestRun } from "../sources/ingest.ts";
import { intervalMs } from "../model/frequency.ts";
import type { DeliveryOutcome } from "../alerts/deliver.ts";
import type { AlertVerdict } from "../alerts/route.ts";

/**
 * Structured JSON logs and CloudWatch metrics in EMF, through AWS Lambda Powertools: one
 * log line per interval run, keyed by a correlation id (metric set @ interval), and the
 * figures an operator watches.
 */
export const logger = new Logger({ serviceName: "vigil" });
export const metrics = new Metrics({ namespace: "Vigil", serviceName: "vigil" });

export const correlationIdOf = (run: Pick<DueRun, "metricSet" | "intervalStart">) => `${run.metricSet.MetricSetArn}@${new Date(run.intervalStart).toISOString()}`;

/** Logs and counts one interval run; `now` is the trigger's clock reading. */
export function recordIntervalRun(run: DueRun, now: number): void {
  const correlationId = correlationIdOf(run);
  if (run.outcome.kind !== "processed") {
    logger.info("interval skipped", { correlationId, outcome: run.outcome.kind });
    return;
  }
  const e = run.outcome.execution;
  // How long after the interval closed it was detected: the delay people wait for an alert.
  const lagSeconds = (now - (run.intervalStart + intervalMs(run.metricSet.MetricSetFrequency))) / 1000;
  logger.info("interval processed", { correlationId, rowsRead: e.rowsRead, rowsRejected: e.rowsRejected, seriesScored: e.seriesScored, anomalies: e.anomalies, anomalyGroupId: e.anomalyGroupId, lagSeconds });
  metrics.addMetric("RowsRead", MetricUnit.Count, e.rowsRead);
  metrics.addMetric("RowsRejected", MetricUnit.Count, e.rowsRejected);
  metrics.addMetric("SeriesScored", MetricUnit.Count, e.seriesScored);
  metrics.addMetric("Anomalies", MetricUnit.Count, e.anomalies);
  metrics.addMetric("AnomalyGroups", MetricUnit.Count, e.anomalyGroupId ? 1 : 0);
  metrics.addMetric("DetectionLag", MetricUnit.Seconds, Math.max(0, lagSeconds));
}

/** Logs and counts one ingested interval: rows pulled, and how long after the interval closed. */
export function recordIngestRun(run: IngestRun, now: number): void {
  const lagSeconds = (now - (run.intervalStart + intervalMs(run.metricSet.MetricSetFrequency))) / 1000;
  logger.info("interval ingested", { correlationId: correlationIdOf(run), rows: run.rows, file: run.file, lagSeconds });
  metrics.addMetric("RowsIngested", MetricUnit.Count, run.rows);
  metrics.addMetric("IngestionLag", MetricUnit.Seconds, Math.max(0, lagSeconds));
}

/** Logs what alerting made of one event, and counts the deliveries it enqueued. */
export function recordVerdicts(eventId: string, verdicts: readonly AlertVerdict[]): void {
  logger.info("anomaly group event routed", { correlationId: eventId, verdicts });
  metrics.addMetric("DeliveriesEnqueued", MetricUnit.Count, verdicts.filter((v) => v.outcome === "enqueued").length);
  metrics.addMetric("AlertsSilenced", MetricUnit.Count, verdicts.filter((v) => v.outcome === "silenced").length);
}

/** Logs and counts one delivery: sent, a duplicate dropped, or parked. */
export function recordDelivery(deliveryId: string, outcome: DeliveryOutcome): void {
  logger.info("delivery", { correlationId: deliveryId, ...outcome });
  metrics.addMetric(outcome.kind === "sent" ? "DeliveriesSent" : outcome.kind === "parked" ? "DeliveriesFailed" : "DeliveriesDuplicate", MetricUnit.Count, 1);
  if (outcome.kind === "sent") metrics.addMetric("DeliveryAttempts", MetricUnit.Count, outcome.attempts);
}
