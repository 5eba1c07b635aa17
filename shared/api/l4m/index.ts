import { alertOperations } from "./alerts.ts";
import { detectorOperations } from "./detectors.ts";
import { discoveryOperations } from "./discovery.ts";
import { feedbackOperations } from "./feedback.ts";
import { groupOperations } from "./groups.ts";
import { metricSetOperations } from "./metric-sets.ts";
import type { Operation } from "./operation.ts";
import { pushOperations } from "./push.ts";
import { runOperations } from "./runs.ts";
import { tagOperations } from "./tags.ts";

/** Every operation served, by its L4M name (PutMetricRows is Vigil's own): L4M's 30, and push. */
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
};

/** Operations reached through `/tags/{resourceArn}`, never as `POST /<Operation>`. */
export const TAG_OPERATIONS: ReadonlySet<string> = new Set(Object.keys(tagOperations));

export type { Call, Operation } from "./operation.ts";
