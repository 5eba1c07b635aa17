import * as z from "zod";
import { Frequency } from "./frequency.ts";
import type { AnomalyDetectorArn } from "./ids.ts";
import { Arn, Description, ResourceName, Tags } from "./shapes.ts";

export const CreateAnomalyDetectorRequest = z.strictObject({
  AnomalyDetectorName: ResourceName,
  AnomalyDetectorDescription: Description.optional(),
  AnomalyDetectorConfig: z.strictObject({ AnomalyDetectorFrequency: Frequency }),
  KmsKeyArn: Arn.optional(),
  Tags: Tags.optional(),
});
export type CreateAnomalyDetectorRequest = z.infer<typeof CreateAnomalyDetectorRequest>;

export const UpdateAnomalyDetectorRequest = z.strictObject({
  AnomalyDetectorArn: Arn,
  KmsKeyArn: Arn.optional(),
  AnomalyDetectorDescription: Description.optional(),
  AnomalyDetectorConfig: z.strictObject({ AnomalyDetectorFrequency: Frequency }).optional(),
});

export type AnomalyDetectorStatus = "INACTIVE" | "ACTIVATING" | "ACTIVE" | "LEARNING" | "BACK_TEST_ACTIVE" | "BACK_TEST_COMPLETE" | "DEACTIVATED" | "FAILED";

/** A detector as stored: the request plus what Vigil adds. */
export interface AnomalyDetector extends CreateAnomalyDetectorRequest {
  readonly AnomalyDetectorArn: AnomalyDetectorArn;
  readonly Status: AnomalyDetectorStatus;
  readonly CreationTime: string;
  readonly LastModificationTime: string;
}
