import * as z from "zod";
import { Arn, ColumnName } from "./shapes.ts";
import { onFirstUse } from "./first-use.ts";

/**
 * A silence mutes alerts for a time window, by detector, measure or dimension values (all
 * given must match), with the reason a person gave. As Alertmanager's, it mutes messages
 * only: anomaly groups are still found and recorded.
 *
 * Its schemas are built on first use: a function that parses no silence builds none (see onFirstUse).
 */
const schemas = onFirstUse(() => {
  const CreateSilenceRequest = z
    .strictObject({
      AnomalyDetectorArn: Arn.optional(),
      MetricName: z.string().min(1).max(256).optional(),
      /** Every pair must be among the group's affected dimension values. */
      DimensionValues: z.array(z.strictObject({ DimensionName: ColumnName, DimensionValue: z.string().min(1).max(1024) })).min(1).max(5).optional(),
      StartsAt: z.iso.datetime({ offset: true }).optional(),
      EndsAt: z.iso.datetime({ offset: true }),
      Reason: z.string().min(1).max(1024),
      CreatedBy: z.string().max(256).optional(),
    })
    .refine((s) => s.AnomalyDetectorArn || s.MetricName || s.DimensionValues, "must name a detector, a measure or dimension values to mute")
    .refine((s) => !s.StartsAt || Date.parse(s.StartsAt) < Date.parse(s.EndsAt), { message: "must end after it starts", path: ["EndsAt"] });

  /** A silence changed before it ends: the fields given replace its own (its window, reason and matchers). */
  const UpdateSilenceRequest = z.strictObject({
    SilenceId: z.uuid(),
    AnomalyDetectorArn: Arn.optional(),
    MetricName: z.string().min(1).max(256).optional(),
    DimensionValues: z.array(z.strictObject({ DimensionName: ColumnName, DimensionValue: z.string().min(1).max(1024) })).min(1).max(5).optional(),
    StartsAt: z.iso.datetime({ offset: true }).optional(),
    EndsAt: z.iso.datetime({ offset: true }).optional(),
    Reason: z.string().min(1).max(1024).optional(),
  });
  return { CreateSilenceRequest, UpdateSilenceRequest };
});

export const CreateSilenceRequest = z.lazy(() => schemas().CreateSilenceRequest);
export const UpdateSilenceRequest = z.lazy(() => schemas().UpdateSilenceRequest);
export type CreateSilenceRequest = z.infer<typeof CreateSilenceRequest>;

export interface Silence extends CreateSilenceRequest {
  readonly SilenceId: string;
  readonly StartsAt: string;
  readonly CreationTime: string;
}
