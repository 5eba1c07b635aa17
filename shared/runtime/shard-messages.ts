import { Frequency } from "../model/frequency.ts";
import * as z from "../model/zod.ts";

const ShardIdField = z.string().check(z.regex(/^[01]{0,32}$/, "must be a shard: up to 32 bits"));
const HashWord = z.int().check(z.minimum(0), z.maximum(0xffffffff));
const HandedRunSchema = z.strictObject({ metricSetArn: z.string().check(z.minLength(1)), work: z.string().check(z.minLength(1)), jobs: z.int().check(z.minimum(1)) });
const JobInputSchema = z.union([
  z.strictObject({ kind: z.literal("interval"), cells: z.strictObject({ uri: z.string().check(z.minLength(1)) }) }),
  z.strictObject({ kind: z.literal("history"), spills: z.array(z.string().check(z.minLength(1))), before: z.number(), keep: z.array(z.number()) }),
]);
const ShardJobSchema = z.strictObject({
  metricSet: z.looseObject({
    MetricSetArn: z.string().check(z.minLength(1)),
    AnomalyDetectorArn: z.string().check(z.minLength(1)),
    MetricList: z.array(z.looseObject({ MetricName: z.string().check(z.minLength(1)), AggregationFunction: z.enum(["SUM", "AVG"]) })).check(z.minLength(1)),
    DimensionList: z.optional(z.array(z.string())),
    MetricSetFrequency: Frequency,
  }),
  root: z.string().check(z.minLength(1)),
  target: ShardIdField,
  source: z.optional(z.strictObject({ id: ShardIdField, version: z.string().check(z.minLength(1)) })),
  version: z.string().check(z.minLength(1)),
  capacity: z.int().check(z.minimum(1)),
  hashKey: z.optional(z.tuple([HashWord, HashWord])),
  input: JobInputSchema,
  readOnly: z.optional(z.boolean()),
});

/** A message of the shard queue (shared/app/shard-queue.ts): a shard job of a run, or the run's merge. */
export const ShardMessageSchema = z.discriminatedUnion("kind", [z.strictObject({ kind: z.literal("shard"), run: HandedRunSchema, job: ShardJobSchema }), z.strictObject({ kind: z.literal("merge"), run: HandedRunSchema })]);
