import * as z from "./zod.ts";
import { Frequency } from "./frequency.ts";
import type { AnomalyDetectorArn } from "./ids.ts";
import { Arn, Description, KmsKeyArn, ResourceName, Tags } from "./shapes.ts";
import { onFirstUse } from "./first-use.ts";

/** Built on first use: a function that parses none of these requests builds none of them (see onFirstUse). */
const schemas = onFirstUse(() => {
  const CreateAnomalyDetectorRequest = z.strictObject({
    AnomalyDetectorName: ResourceName,
    AnomalyDetectorDescription: z.optional(Description),
    AnomalyDetectorConfig: z.strictObject({ AnomalyDetectorFrequency: Frequency }),
    KmsKeyArn: z.optional(KmsKeyArn),
    Tags: z.optional(Tags),
  });

  const UpdateAnomalyDetectorRequest = z.strictObject({
    AnomalyDetectorArn: Arn,
    KmsKeyArn: z.optional(KmsKeyArn),
    AnomalyDetectorDescription: z.optional(Description),
    AnomalyDetectorConfig: z.optional(z.strictObject({ AnomalyDetectorFrequency: Frequency })),
  });
  return { CreateAnomalyDetectorRequest, UpdateAnomalyDetectorRequest };
});

export const CreateAnomalyDetectorRequest = z.lazy(() => schemas().CreateAnomalyDetectorRequest);
export const UpdateAnomalyDetectorRequest = z.lazy(() => schemas().UpdateAnomalyDetectorRequest);
export type CreateAnomalyDetectorRequest = z.infer<typeof CreateAnomalyDetectorRequest>;

/**
 * L4M's statuses as Vigil moves them: ActivateAnomalyDetector asks for ACTIVATING, and the
 * scheduled work learns the history and moves on to ACTIVE (enough history to score) or
 * LEARNING (scoring waits for more intervals); BackTestAnomalyDetector asks for
 * BACK_TEST_ACTIVATING, and the work moves through BACK_TEST_ACTIVE to BACK_TEST_COMPLETE.
 * Either ends in FAILED, with a FailureType and FailureReason, when its data cannot be used.
 * DeleteAnomalyDetector marks it DELETING before it deletes what it holds: nothing is made
 * in it or changed then, and deleting it again finishes what a stopped deletion left.
 */
export type AnomalyDetectorStatus = "INACTIVE" | "ACTIVATING" | "ACTIVE" | "LEARNING" | "BACK_TEST_ACTIVATING" | "BACK_TEST_ACTIVE" | "BACK_TEST_COMPLETE" | "DEACTIVATED" | "FAILED" | "DELETING";

export type AnomalyDetectorFailureType = "ACTIVATION_FAILURE" | "BACK_TEST_ACTIVATION_FAILURE" | "DELETION_FAILURE" | "DEACTIVATION_FAILURE";

/** Statuses in which scheduled detection runs the detector's intervals. */
export const DETECTING: ReadonlySet<AnomalyDetectorStatus> = new Set(["ACTIVE", "LEARNING"]);
/** Statuses in which work is under way or asked for: the detector cannot be back-tested or deleted then. */
export const BUSY: ReadonlySet<AnomalyDetectorStatus> = new Set(["ACTIVATING", "ACTIVE", "LEARNING", "BACK_TEST_ACTIVATING", "BACK_TEST_ACTIVE"]);

/** A detector as stored: the request plus what Vigil adds. */
export interface AnomalyDetector extends CreateAnomalyDetectorRequest {
  readonly AnomalyDetectorArn: AnomalyDetectorArn;
  readonly Status: AnomalyDetectorStatus;
  readonly CreationTime: string;
  readonly LastModificationTime: string;
  readonly FailureType?: AnomalyDetectorFailureType;
  readonly FailureReason?: string;
  /** LEARNING: the start (ISO) of the interval after which the model has seen enough to score. */
  readonly LearningUntil?: string;
}
