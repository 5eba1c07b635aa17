import { madeOnFirstUse } from "../../model/first-use.ts";
import type { Operation } from "./operation.ts";

type Table = Readonly<Record<string, Operation>>;

const TAGS = ["ListTagsForResource", "TagResource", "UntagResource"];

/**
 * Every operation served, by its L4M name: L4M's 30, and Vigil's own (PutMetricRows;
 * silences; deliveries; a series' history and ExplainAlerting; rejected rows and the
 * back-test report), which the console calls as the SDK calls L4M's. Each resource's module
 * (its schemas, use cases and what they read) is loaded when one of its operations is first
 * called, so the api function's cold start parses none of the others.
 */
const RESOURCES: readonly (readonly [load: () => Promise<Table>, names: readonly string[]])[] = [
  [() => import("./detectors.ts").then((m) => m.detectorOperations), ["CreateAnomalyDetector", "DescribeAnomalyDetector", "ListAnomalyDetectors", "UpdateAnomalyDetector", "DeleteAnomalyDetector", "ActivateAnomalyDetector", "DeactivateAnomalyDetector"]],
  [() => import("./metric-sets.ts").then((m) => m.metricSetOperations), ["CreateMetricSet", "DescribeMetricSet", "ListMetricSets", "UpdateMetricSet"]],
  [() => import("./alerts.ts").then((m) => m.alertOperations), ["CreateAlert", "DescribeAlert", "ListAlerts", "UpdateAlert", "DeleteAlert"]],
  [() => import("./groups.ts").then((m) => m.groupOperations), ["ListAnomalyGroupSummaries", "GetAnomalyGroup", "ListAnomalyGroupTimeSeries", "ListAnomalyGroupRelatedMetrics"]],
  [() => import("./feedback.ts").then((m) => m.feedbackOperations), ["PutFeedback", "GetFeedback"]],
  [() => import("./runs.ts").then((m) => m.runOperations), ["DescribeAnomalyDetectionExecutions", "GetDataQualityMetrics", "BackTestAnomalyDetector", "GetRejectedRows", "GetBackTestReport"]],
  [() => import("./discovery.ts").then((m) => m.discoveryOperations), ["DetectMetricSetConfig", "GetSampleData"]],
  [() => import("./tags.ts").then((m) => m.tagOperations), TAGS],
  [() => import("./push.ts").then((m) => m.pushOperations), ["PutMetricRows"]],
  [() => import("./silences.ts").then((m) => m.silenceOperations), ["CreateSilence", "ListSilences", "UpdateSilence", "ExpireSilence"]],
  [() => import("./deliveries.ts").then((m) => m.deliveryOperations), ["ListDeliveries", "ReplayDeliveries"]],
  [() => import("./history.ts").then((m) => m.historyOperations), ["GetTimeSeriesHistory", "ExplainAlerting"]],
];

/** An operation whose module is loaded on its first call (and kept). */
function loaded(load: () => Promise<Table>, name: string): Operation {
  const table = madeOnFirstUse(load);
  return {
    async handle(services, body, call, called) {
      const operation = (await table())[name];
      if (!operation) throw new Error(`${name} is missing from its module`);
      return operation.handle(services, body, call, called);
    },
  };
}

export const operations: Readonly<Record<string, Operation>> = Object.fromEntries(RESOURCES.flatMap(([load, names]) => names.map((name) => [name, loaded(load, name)])));

/** Operations reached through `/tags/{resourceArn}`, never as `POST /<Operation>`. */
export const TAG_OPERATIONS: ReadonlySet<string> = new Set(TAGS);

/** Each resource's module, for checking that the names above are exactly what it serves. */
export const resourceTables = (): Promise<Table[]> => Promise.all(RESOURCES.map(([load]) => load()));

export type { Call, Operation } from "./operation.ts";
