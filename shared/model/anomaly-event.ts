import * as z from "zod";
import type { AnomalyGroup, Direction } from "./anomaly.ts";
import type { AnomalyGroupId } from "./ids.ts";

/** A dimension value and its share (0–100) of the deviation of the group's primary measure. */
export interface Contributor {
  readonly name: string;
  readonly value: string;
  readonly share: number;
}

/** L4M's relevantTimeSeries entry, with the expected value beside the actual one. */
export interface RelevantTimeSeries {
  readonly timeSeriesId: string;
  readonly dimensions: readonly { readonly dimensionName: string; readonly dimensionValue: string }[];
  readonly metricValue: number;
  readonly expectedValue: number;
}

/**
 * The primary measure of the group's series over the last intervals, summed: actual
 * values against the expected value and its band, `null` where there was no value.
 */
export interface GroupChart {
  /** Start of the first point, epoch ms. */
  readonly start: number;
  readonly intervalMs: number;
  readonly actual: readonly (number | null)[];
  readonly expected: readonly (number | null)[];
  readonly lower: readonly (number | null)[];
  readonly upper: readonly (number | null)[];
}

/** What a person needs to judge the group, computed once by detection for every channel. */
export interface GroupSummary {
  readonly measure: string;
  readonly direction: Direction;
  /** Σ of the group's anomalous values of the primary measure, and of their expected values. */
  readonly actual: number;
  readonly expected: number;
  /** Strongest first, one per dimension. */
  readonly contributors: readonly Contributor[];
  /** "name=value" of every dimension value carrying ≥ 10% of a measure's deviation, sorted. */
  readonly affected: readonly string[];
  /** The series of the primary measure at the latest interval, furthest from expected first (≤ 10). */
  readonly relevantTimeSeries: readonly RelevantTimeSeries[];
  readonly chart: GroupChart;
}

/**
 * Detection announces each new or changed anomaly group, and each group that ended (a
 * quiet interval closed it); alerting listens (in AWS through an SNS topic). The event
 * carries the group in L4M's shape, its summary, and a revision, so a listener can tell a
 * grown group from a re-delivered event.
 */
export interface AnomalyGroupEvent {
  readonly type: "AnomalyGroupChanged" | "AnomalyGroupEnded";
  readonly anomalyDetectorArn: string;
  readonly metricSetArn: string;
  readonly revision: number;
  /** The interval this event reports, epoch ms: the latest anomalous one, or the quiet one that ended the group. */
  readonly intervalStart: number;
  readonly intervalMs: number;
  readonly anomalyGroup: AnomalyGroup;
  readonly summary: GroupSummary;
}

/** One id per announcement: a re-delivered event has the same one. */
export const eventIdOf = (e: Pick<AnomalyGroupEvent, "type" | "revision" | "anomalyGroup">) =>
  `${e.anomalyGroup.AnomalyGroupId}#${e.type === "AnomalyGroupEnded" ? "end" : e.revision}`;

const num = z.number().finite();
const nums = z.array(num.nullable()).max(1000);
const Contributors = z.array(z.strictObject({ name: z.string(), value: z.string(), share: num })).max(100);
const RelevantSeries = z
  .array(z.strictObject({ timeSeriesId: z.string(), dimensions: z.array(z.strictObject({ dimensionName: z.string(), dimensionValue: z.string() })), metricValue: num, expectedValue: num }))
  .max(100);
export const GroupChartSchema = z.strictObject({ start: num, intervalMs: num.positive(), actual: nums, expected: nums, lower: nums, upper: nums });

/** The event as alerting receives it from the topic: checked, since it crossed a process boundary. */
export const AnomalyGroupEventSchema = z.strictObject({
  type: z.enum(["AnomalyGroupChanged", "AnomalyGroupEnded"]),
  anomalyDetectorArn: z.string().startsWith("arn:"),
  metricSetArn: z.string().startsWith("arn:"),
  revision: z.number().int().nonnegative(),
  intervalStart: num,
  intervalMs: num.positive(),
  anomalyGroup: z.strictObject({
    AnomalyGroupId: z.string().min(1).transform((id) => id as AnomalyGroupId),
    StartTime: z.iso.datetime(),
    EndTime: z.iso.datetime(),
    AnomalyGroupScore: num.min(0).max(100),
    PrimaryMetricName: z.string(),
    MetricLevelImpactList: z.array(
      z.strictObject({
        MetricName: z.string(),
        NumTimeSeries: z.number().int().nonnegative(),
        ContributionMatrix: z.strictObject({
          DimensionContributionList: z.array(z.strictObject({ DimensionName: z.string(), DimensionValueContributionList: z.array(z.strictObject({ DimensionValue: z.string(), ContributionScore: num })) })),
        }),
      }),
    ),
  }),
  summary: z.strictObject({
    measure: z.string(),
    direction: z.enum(["UP", "DOWN"]),
    actual: num,
    expected: num,
    contributors: Contributors,
    affected: z.array(z.string()).max(1000),
    relevantTimeSeries: RelevantSeries,
    chart: GroupChartSchema,
  }),
});


export const ContributorsSchema = Contributors;
export const RelevantTimeSeriesSchema = RelevantSeries;
