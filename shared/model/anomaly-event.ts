import * as z from "./zod.ts";
import type { AnomalyGroup } from "./anomaly.ts";
import type { AnomalyGroupId } from "./ids.ts";

const num = z.number();
const nums = z.readonly(z.array(z.nullable(num)).check(z.maxLength(1000)));

/** A dimension value and its share (0–100) of the deviation of the group's primary measure. */
export const ContributorSchema = z.strictObject({ name: z.string(), value: z.string(), share: num });
export type Contributor = z.infer<typeof ContributorSchema>;

/** L4M's relevantTimeSeries entry, with the expected value beside the actual one. */
export const RelevantTimeSeriesSchema = z.strictObject({
  timeSeriesId: z.string(),
  dimensions: z.readonly(z.array(z.strictObject({ dimensionName: z.string(), dimensionValue: z.string() }))),
  metricValue: num,
  expectedValue: num,
});
export type RelevantTimeSeries = z.infer<typeof RelevantTimeSeriesSchema>;

/**
 * The primary measure of the group's series over the last intervals, summed: actual
 * values against the expected value and its band, `null` where there was no value.
 * `start` is the first point's start (epoch ms).
 */
export const GroupChartSchema = z.strictObject({ start: num, intervalMs: num.check(z.positive()), actual: nums, expected: nums, lower: nums, upper: nums });
export type GroupChart = z.infer<typeof GroupChartSchema>;

/**
 * What a person needs to judge the group, computed once by detection for every channel:
 * Σ of the group's anomalous values of the primary measure and of their expected values,
 * the contributors (strongest first, one per dimension), "name=value" of every dimension
 * value carrying >= 10% of a measure's deviation (sorted), and the series of the primary
 * measure at the latest interval, furthest from expected first (<= 10).
 */
export const GroupSummarySchema = z.strictObject({
  measure: z.string(),
  direction: z.enum(["UP", "DOWN"]),
  actual: num,
  expected: num,
  contributors: z.readonly(z.array(ContributorSchema).check(z.maxLength(100))),
  affected: z.readonly(z.array(z.string()).check(z.maxLength(1000))),
  relevantTimeSeries: z.readonly(z.array(RelevantTimeSeriesSchema).check(z.maxLength(100))),
  chart: GroupChartSchema,
});
export type GroupSummary = z.infer<typeof GroupSummarySchema>;

/** L4M's AnomalyGroup in the event: checked like the rest, since it crossed a process boundary. */
const AnomalyGroupSchema = z.strictObject({
  AnomalyGroupId: z.pipe(z.string().check(z.minLength(1)), z.transform((id: string) => id as AnomalyGroupId)),
  StartTime: z.iso.datetime(),
  EndTime: z.iso.datetime(),
  AnomalyGroupScore: num.check(z.minimum(0), z.maximum(100)),
  PrimaryMetricName: z.string(),
  MetricLevelImpactList: z.readonly(
    z.array(
      z.strictObject({
      MetricName: z.string(),
      NumTimeSeries: z.int().check(z.nonnegative()),
      ContributionMatrix: z.strictObject({
        DimensionContributionList: z.readonly(z.array(z.strictObject({ DimensionName: z.string(), DimensionValueContributionList: z.readonly(z.array(z.strictObject({ DimensionValue: z.string(), ContributionScore: num }))) }))),
      }),
    }),
    ),
  ),
}) satisfies z.ZodMiniType<AnomalyGroup, unknown>;

/**
 * Detection announces each new or changed anomaly group, and each group that ended (a
 * quiet interval closed it); alerting listens (in AWS through an SNS topic). The event
 * carries the group in L4M's shape, its summary, and a revision, so a listener can tell a
 * grown group from a re-delivered event. `intervalStart` is the interval it reports: the
 * latest anomalous one, or the quiet one that ended the group.
 */
export const AnomalyGroupEventSchema = z.strictObject({
  type: z.enum(["AnomalyGroupChanged", "AnomalyGroupEnded"]),
  anomalyDetectorArn: z.string().check(z.startsWith("arn:")),
  metricSetArn: z.string().check(z.startsWith("arn:")),
  revision: z.int().check(z.nonnegative()),
  intervalStart: num,
  intervalMs: num.check(z.positive()),
  anomalyGroup: AnomalyGroupSchema,
  summary: GroupSummarySchema,
});
export type AnomalyGroupEvent = z.output<typeof AnomalyGroupEventSchema>;

export const eventIdOf = (e: Pick<AnomalyGroupEvent, "type" | "revision" | "anomalyGroup">) =>
  `${e.anomalyGroup.AnomalyGroupId}#${e.type === "AnomalyGroupEnded" ? "end" : e.revision}`;
