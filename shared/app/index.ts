/**
 * The application's front door: every use case the edges (the L4M API, the console, the
 * CLI, the Lambda handlers) may call, and the types they exchange. Tenant use cases take a
 * Scope; the scheduled ones (detect, ingest, alerting) run for the system.
 */
export type { Clock, AlertSettings, DataFiles, DataGrant, Services } from "./services.ts";
export type { Observer } from "./observer.ts";
export { silentObserver } from "./observer.ts";
export type { Scope } from "./scope.ts";
export { DEFAULT_ACCOUNT_ID, OPERATOR, systemScope } from "./scope.ts";

export { activateDetector, createDetector, deactivateDetector, deleteDetector, describeDetector, listDetectors, updateDetector } from "./detectors.ts";
export { createMetricSet, describeMetricSet, listMetricSets, updateMetricSet } from "./metric-sets.ts";
export { createAlert, deleteAlert, describeAlert, listAlerts, updateAlert } from "./alerts.ts";
export { listTags, tagResource, untagResource } from "./tags.ts";
export { createSilence, expireSilence, findSilences, listSilences, updateSilence } from "./silences.ts";
export { getGroup, groupRelatedMetrics, groupRecords, groupTimeSeries, linkedGroup, listGroupSummaries, type GroupSummaries, type GroupTimeSeries, type LinkedGroup } from "./groups.ts";
export { feedbackByLink, getFeedback, putFeedback, type FeedbackRecord } from "./feedback.ts";
export { dataQuality, executions, isNotKept, rejectedRows } from "./quality.ts";
export { backTestDetector, backTestReports, backtestFiles, backTestPrefixes, backTestsAsked, type BacktestReport, type BacktestRun, type BackTestWindow } from "./backtest.ts";
export { releaseStaleBackTestLeases, runBackTests } from "./backtest-run.ts";
export { seriesHistory, MAX_HISTORY_INTERVALS, type SeriesHistory, type SeriesPoint, type SeriesQuery } from "./history.ts";
export { explainAlerting, type AlertExplanation, type AlertingExplanation, type AlertReason } from "./explain.ts";
export { listDeliveries, replayParkedDeliveries, type DeliveryFilter, type DeliveryStatus, type Notice } from "./notices.ts";
export { detectMetricSetConfig, getSampleData } from "./discovery.ts";
export type { Guess, InferredConfig } from "../ingest/infer.ts";
export { putMetricRows, type PutMetricRowsResponse } from "./push.ts";
export { detectDue, detectInterval, lastClosedInterval, loadModel, NO_DATA, releaseStaleLeases, type DueOptions, type DueRun, type IntervalExecution, type IntervalOutcome, type QualityRecord, type HistoryQuality } from "./detect.ts";
export { ingestDue, type IngestRun, type PulledSource } from "./ingest.ts";
export { alertLookup, deliverAll, deliverOne, releaseStaleDelivery, replayDeliveries, routeEvent, routeEvents, type AlertLookup } from "./alerting.ts";
export { DeliverySchema, type Delivery } from "../alerts/delivery.ts";
export { DeliveryInterrupted, type DeliveryOutcome } from "../alerts/deliver.ts";
export { verifiedLink } from "./links.ts";
export { awaitedMetricSets, nextDueAt, nextWakeAt } from "./schedule.ts";
