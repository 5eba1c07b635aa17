import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { DueRun, IngestRun, Observer } from "../app/index.ts";

/** The correlation id of one interval run: metric set @ interval. */
export const correlationIdOf = (run: Pick<DueRun, "metricSet" | "intervalStart">) => `${run.metricSet.MetricSetArn}@${new Date(run.intervalStart).toISOString()}`;

/** How long after an interval closed something happened to it (seconds): the delay people wait for. */
const lagSeconds = (run: Pick<DueRun, "closedAt">, now: number) => (now - run.closedAt) / 1000;

/** An Observer that writes to Powertools' logger and metrics; the edges keep both for middy. */
export interface PowertoolsObserver extends Observer {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * A middy middleware that publishes the figures an invocation recorded, when it recorded any,
 * with its answer or its failure: for a function whose invocations mostly record none (the
 * api: a replay's deliveries do), where Powertools' logMetrics would warn of an empty flush
 * at each.
 */
export function recordedMetrics(metrics: Metrics): { after: () => void; onError: () => void } {
  const publish = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}

/**
 * Structured JSON logs and CloudWatch metrics in EMF, through AWS Lambda Powertools: one
 * log line per interval run, ingested interval, routed event and delivery, keyed by a
 * correlation id, and the figures an operator watches. Made by each edge and passed in.
 */
export function powertoolsObserver(logger = new Logger({ serviceName: "vigil" }), metrics = new Metrics({ namespace: "Vigil", serviceName: "vigil" })): PowertoolsObserver {
  return {
    logger,
    metrics,
    intervalRun(run, now) {
      const correlationId = correlationIdOf(run);
      if (run.outcome.kind === "failed") return void logger.warn("interval failed", { correlationId, reason: run.outcome.execution.FailureReason });
      // Its work was thrown away, and its events may have gone unsaid: the interval is run again.
      if (run.outcome.kind === "lease-expired") {
        metrics.addMetric("RunsPastTheirLease", MetricUnit.Count, 1);
        return void logger.warn("interval run outlived its lease: nothing committed, it runs again", { correlationId });
      }
      if (run.outcome.kind !== "processed") return void logger.info("interval skipped", { correlationId, outcome: run.outcome.kind });
      const e = run.outcome.execution;
      const lag = lagSeconds(run, now);
      logger.info("interval processed", { correlationId, rowsRead: e.rowsRead, rowsRejected: e.rowsRejected, seriesScored: e.seriesScored, anomalies: e.anomalies, anomalyGroupId: e.anomalyGroupId, lagSeconds: lag });
      metrics.addMetric("RowsRead", MetricUnit.Count, e.rowsRead);
      metrics.addMetric("RowsRejected", MetricUnit.Count, e.rowsRejected);
      metrics.addMetric("SeriesScored", MetricUnit.Count, e.seriesScored);
      metrics.addMetric("Anomalies", MetricUnit.Count, e.anomalies);
      metrics.addMetric("AnomalyGroups", MetricUnit.Count, e.anomalyGroupId ? 1 : 0);
      metrics.addMetric("DetectionLag", MetricUnit.Seconds, Math.max(0, lag));
    },
    ingestRun(run: IngestRun, now) {
      const lag = lagSeconds(run, now);
      logger.info("interval ingested", { correlationId: correlationIdOf(run), rows: run.rows, file: run.file, lagSeconds: lag });
      metrics.addMetric("RowsIngested", MetricUnit.Count, run.rows);
      metrics.addMetric("IngestionLag", MetricUnit.Seconds, Math.max(0, lag));
    },
    routed(eventId, verdicts) {
      logger.info("anomaly group event routed", { correlationId: eventId, verdicts });
      metrics.addMetric("DeliveriesEnqueued", MetricUnit.Count, verdicts.filter((v) => v.outcome === "enqueued").length);
      metrics.addMetric("AlertsSilenced", MetricUnit.Count, verdicts.filter((v) => v.outcome === "silenced").length);
    },
    delivered(deliveryId, outcome) {
      logger.info("delivery", { correlationId: deliveryId, ...outcome });
      metrics.addMetric(outcome.kind === "sent" ? "DeliveriesSent" : outcome.kind === "parked" ? "DeliveriesFailed" : "DeliveriesDuplicate", MetricUnit.Count, 1);
      if (outcome.kind === "sent") metrics.addMetric("DeliveryAttempts", MetricUnit.Count, outcome.attempts);
    },
    failed(what, error, context) {
      logger.error(`${what} failed`, { ...context, error: error instanceof Error ? error : new Error(String(error)) });
    },
  };
}
