import * as z from "zod";

const ShardIdField = z.string().regex(/^[01]{0,32}$/, "must be a shard: up to 32 bits");
const HandedRunSchema = z.strictObject({ metricSetArn: z.string().min(1), work: z.string().min(1), jobs: z.number().int().min(1) });
const JobInputSchema = z.union([
  z.strictObject({ kind: z.literal("interval"), cells: z.strictObject({ uri: z.string().min(1) }) }),
  z.strictObject({ kind: z.literal("history"), spills: z.array(z.string().min(1)), before: z.number(), keep: z.array(z.number()) }),
]);
const ShardJobSchema = z.strictObject({
  metricSet: z.looseObject({
    MetricSetArn: z.string().min(1),
    AnomalyDetectorArn: z.string().min(1),
    MetricList: z.array(z.looseObject({ MetricName: z.string().min(1), AggregationFunction: z.enum(["SUM", "AVG"]) })).min(1),
    DimensionList: z.array(z.string()).optional(),
    MetricSetFrequency: z.enum(["PT5M", "PT10M", "PT1H", "P1D"]),
  }),
  root: z.string().min(1),
  target: ShardIdField,
  source: z.strictObject({ id: ShardIdField, version: z.string().min(1) }).optional(),
  version: z.string().min(1),
  capacity: z.number().int().min(1),
  input: JobInputSchema,
  readOnly: z.boolean().optional(),
});

/** A message of the shard queue (shared/app/shard-queue.ts): a shard job of a run, or the run's merge. */
export const ShardMessageSchema = z.discriminatedUnion("kind", [z.strictObject({ kind: z.literal("shard"), run: HandedRunSchema, job: ShardJobSchema }), z.strictObject({ kind: z.literal("merge"), run: HandedRunSchema })]);
