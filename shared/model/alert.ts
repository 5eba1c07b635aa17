import * as z from "zod";
import type { AlertArn, AnomalyDetectorArn } from "./ids.ts";
import { Arn, ColumnName, Description, ResourceName, Tags } from "./shapes.ts";

/** L4M's default: alerts fire for anomaly groups of severity 70 and above. */
export const DEFAULT_ALERT_THRESHOLD = 70;

const SNSConfiguration = z.strictObject({
  RoleArn: Arn,
  SnsTopicArn: Arn,
  SnsFormat: z.enum(["LONG_TEXT", "SHORT_TEXT", "JSON"]).optional(),
});
const LambdaConfiguration = z.strictObject({ RoleArn: Arn, LambdaArn: Arn });

export const Action = z
  .strictObject({ SNSConfiguration: SNSConfiguration.optional(), LambdaConfiguration: LambdaConfiguration.optional() })
  .refine((a) => (a.SNSConfiguration ? 1 : 0) + (a.LambdaConfiguration ? 1 : 0) === 1, "must hold exactly one of SNSConfiguration and LambdaConfiguration");
export type Action = z.infer<typeof Action>;

export const AlertFilters = z.strictObject({
  MetricList: z.array(z.string().max(256).regex(/^[a-zA-Z0-9][a-zA-Z0-9\-_]*$/)).min(1).max(5).optional(),
  DimensionFilterList: z
    .array(z.strictObject({ DimensionName: ColumnName, DimensionValueList: z.array(z.string()).min(1).max(10) }))
    .min(1)
    .max(5)
    .optional(),
});
export type AlertFilters = z.infer<typeof AlertFilters>;

export const CreateAlertRequest = z.strictObject({
  AlertName: ResourceName,
  AlertSensitivityThreshold: z.number().int().min(0).max(100).optional(),
  AlertDescription: Description.optional(),
  AnomalyDetectorArn: Arn,
  Action,
  Tags: Tags.optional(),
  AlertFilters: AlertFilters.optional(),
});
export type CreateAlertRequest = z.infer<typeof CreateAlertRequest>;

export interface Alert extends CreateAlertRequest {
  readonly AlertArn: AlertArn;
  readonly AnomalyDetectorArn: AnomalyDetectorArn;
  readonly AlertSensitivityThreshold: number;
  readonly AlertType: "SNS" | "LAMBDA";
  readonly AlertStatus: "ACTIVE" | "INACTIVE";
  readonly CreationTime: string;
  readonly LastModificationTime: string;
}
