import { Logger } from "@aws-lambda-powertools/logger";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { IngestRun, Observer } from "../../app/index.ts";
import { correlationIdOf } from "../observability.ts";

/** One request answered, as the log and `/metrics` are told of it (a type, not an interface: the logger takes it as its fields). */
export type AnsweredRequest = {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly ms: number;
};

/**
 * What `vigil serve` tells its operator: one JSON log line per interval run, ingested
 * interval, routed event, delivery and request, each with its interval, event, delivery or
 * request id; and the figures of `GET /metrics`, in Prometheus' text format (prom-client).
 */
export interface ServiceObserver extends Observer {
  readonly registry: Registry;
  readonly logger: Logger;
  /** One answered API request. */
  request(entry: AnsweredRequest): void;
  /** How many deliveries wait in the queue, read when /metrics is scraped. */
  queueDepth(read: () => Promise<number>): void;
}

const LAG_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200, 21_600, 86_400];

export function serviceObserver(logger = new Logger({ serviceName: "vigil" })): ServiceObserver {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "vigil_" });
  const intervals = new Counter({ name: "vigil_intervals_total", help: "Interval runs of detection, by outcome (processed, already-processed, in-progress, processed-elsewhere, dispatched, failed, lease-expired)", labelNames: ["outcome"], registers: [registry] });
  const lag = new Histogram({ name: "vigil_detection_lag_seconds", help: "Seconds from an interval's end to its detection", buckets: LAG_BUCKETS, registers: [registry] });
  const lastLag = new Gauge({ name: "vigil_detection_last_lag_seconds", help: "Lag of the last interval detected", registers: [registry] });
  const rowsRead = new Counter({ name: "vigil_rows_read_total", help: "Rows read by detection", registers: [registry] });
  const rowsRejected = new Counter({ name: "vigil_rows_rejected_total", help: "Rows that could not be used, kept with their reason", registers: [registry] });
  const noData = new Counter({ name: "vigil_intervals_without_data_total", help: "Intervals whose files held no row", registers: [registry] });
  const anomalies = new Counter({ name: "vigil_anomalies_total", help: "Anomalies found (series-intervals)", registers: [registry] });
  const groups = new Counter({ name: "vigil_anomaly_group_revisions_total", help: "Interval runs that opened or grew an anomaly group", registers: [registry] });
  const ingested = new Counter({ name: "vigil_rows_ingested_total", help: "Rows pulled from sources (CloudWatch) into canonical files", registers: [registry] });
  const enqueued = new Counter({ name: "vigil_alert_verdicts_total", help: "What routing made of each alert for each anomaly group event", labelNames: ["outcome"], registers: [registry] });
  const deliveries = new Counter({ name: "vigil_deliveries_total", help: "Deliveries by outcome (sent, duplicate, parked)", labelNames: ["outcome"], registers: [registry] });
  const failures = new Counter({ name: "vigil_failures_total", help: "Unexpected failures, by what was being done", labelNames: ["what"], registers: [registry] });
  const requests = new Counter({ name: "vigil_http_requests_total", help: "API requests answered, by status class", labelNames: ["status"], registers: [registry] });
  let depth: (() => Promise<number>) | undefined;
  new Gauge({
    name: "vigil_delivery_queue_depth",
    help: "Deliveries waiting to be sent",
    registers: [registry],
    async collect() {
      this.set(depth ? await depth() : 0);
    },
  });

  return {
    registry,
    logger,
    intervalRun(run, now) {
      const intervalId = correlationIdOf(run);
      intervals.inc({ outcome: run.outcome.kind });
      if (run.outcome.kind === "failed") return void logger.warn("interval failed", { intervalId, reason: run.outcome.execution.FailureReason });
      if (run.outcome.kind === "lease-expired") return void logger.warn("interval run outlived its lease: nothing committed, it runs again", { intervalId });
      if (run.outcome.kind !== "processed") return void logger.info("interval skipped", { intervalId, outcome: run.outcome.kind });
      const e = run.outcome.execution;
      const seconds = Math.max(0, (now - run.closedAt) / 1000);
      lag.observe(seconds);
      lastLag.set(seconds);
      rowsRead.inc(e.rowsRead);
      rowsRejected.inc(e.rowsRejected);
      anomalies.inc(e.anomalies);
      if (e.anomalyGroupId) groups.inc();
      if (e.rowsRead === 0) noData.inc();
      logger.info("interval processed", { intervalId, status: e.Status, ...(e.FailureReason ? { failureReason: e.FailureReason } : {}), rowsRead: e.rowsRead, rowsRejected: e.rowsRejected, seriesScored: e.seriesScored, anomalies: e.anomalies, anomalyGroupId: e.anomalyGroupId, lagSeconds: seconds });
    },
    ingestRun(run: IngestRun) {
      ingested.inc(run.rows);
      logger.info("interval ingested", { intervalId: correlationIdOf(run), rows: run.rows, file: run.file });
    },
    routed(eventId, verdicts) {
      for (const v of verdicts) enqueued.inc({ outcome: v.outcome });
      logger.info("anomaly group event routed", { eventId, verdicts });
    },
    delivered(deliveryId, outcome) {
      deliveries.inc({ outcome: outcome.kind });
      logger.info("delivery", { deliveryId, ...outcome });
    },
    failed(what, error, context) {
      failures.inc({ what });
      logger.error(`${what} failed`, { ...context, error: error instanceof Error ? error : new Error(String(error)) });
    },
    request(entry) {
      requests.inc({ status: `${Math.floor(entry.status / 100)}xx` });
      logger.info("request", entry);
    },
    queueDepth(read) {
      depth = read;
    },
  };
}
