import * as z from "./zod.ts";
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
      AnomalyDetectorArn: z.optional(Arn),
      MetricName: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
      /** Every pair must be among the group's affected dimension values. */
      DimensionValues: z.optional(z.array(z.strictObject({ DimensionName: ColumnName, DimensionValue: z.string().check(z.minLength(1), z.maxLength(1024)) })).check(z.minLength(1), z.maxLength(5))),
      StartsAt: z.optional(z.iso.datetime({ offset: true })),
      EndsAt: z.iso.datetime({ offset: true }),
      Reason: z.string().check(z.minLength(1), z.maxLength(1024)),
      CreatedBy: z.optional(z.string().check(z.maxLength(256))),
    })
    .check(
      z.refine((s) => s.AnomalyDetectorArn || s.MetricName || s.DimensionValues, "must name a detector, a measure or dimension values to mute"),
      z.refine((s) => !s.StartsAt || Date.parse(s.StartsAt) < Date.parse(s.EndsAt), { message: "must end after it starts", path: ["EndsAt"] }),
    );

  /** A silence changed before it ends: the fields given replace its own (its window, reason and matchers). */
  const UpdateSilenceRequest = z.strictObject({
    SilenceId: z.uuid(),
    AnomalyDetectorArn: z.optional(Arn),
    MetricName: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    DimensionValues: z.optional(z.array(z.strictObject({ DimensionName: ColumnName, DimensionValue: z.string().check(z.minLength(1), z.maxLength(1024)) })).check(z.minLength(1), z.maxLength(5))),
    StartsAt: z.optional(z.iso.datetime({ offset: true })),
    EndsAt: z.optional(z.iso.datetime({ offset: true })),
    Reason: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
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
