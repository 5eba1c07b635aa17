import { alertOperations } from "./alerts.ts";
import { deliveryOperations } from "./deliveries.ts";
import { detectorOperations } from "./detectors.ts";
import { discoveryOperations } from "./discovery.ts";
import { feedbackOperations } from "./feedback.ts";
import { groupOperations } from "./groups.ts";
import { historyOperations } from "./history.ts";
import { metricSetOperations } from "./metric-sets.ts";
import type { Operation } from "./operation.ts";
import { pushOperations } from "./push.ts";
import { runOperations } from "./runs.ts";
import { silenceOperations } from "./silences.ts";
import { tagOperations } from "./tags.ts";

/**
 * Every operation served, by its L4M name: L4M's 30, and Vigil's own (PutMetricRows;
 * silences; deliveries; a series' history and ExplainAlerting; rejected rows and the
 * back-test report), which the console calls as the SDK calls L4M's.
 */
export const operations: Readonly<Record<string, Operation>> = {
  ...detectorOperations,
  ...metricSetOperations,
  ...alertOperations,
  ...groupOperations,
  ...feedbackOperations,
  ...runOperations,
  ...discoveryOperations,
  ...tagOperations,
  ...pushOperations,
  ...silenceOperations,
  ...deliveryOperations,
  ...historyOperations,
};

/** Operations reached through `/tags/{resourceArn}`, never as `POST /<Operation>`. */
export const TAG_OPERATIONS: ReadonlySet<string> = new Set(Object.keys(tagOperations));

export type { Call, Operation } from "./operation.ts";
