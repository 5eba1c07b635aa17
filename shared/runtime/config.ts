import * as z from "../model/zod.ts";
import { ValidationException } from "../model/errors.ts";
import { parseOrThrow } from "../model/validate.ts";

/**
 * The functions' settings, read from the environment once at cold start (strict: a
 * misspelt mode or a missing table is an error, not a default). `local` keeps records,
 * results and models under VIGIL_DATA_DIR; `aws` keeps records in the DynamoDB table
 * VIGIL_TABLE and results and models under the S3 prefix VIGIL_RESULTS_ROOT.
 */
/** An ISO-8601 duration of days and time (PT4H, P1DT12H, PT90M): what a reminder interval is counted in. */
export const REPEAT_INTERVAL = /^P(?=\d|T\d)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

const Alerting = {
  /** Base URL of the API, for the links in alert messages. */
  VIGIL_PUBLIC_URL: z.optional(z.url({ protocol: /^https?$/ })),
  /** smtp(s)://user:pass@host:port (SES's SMTP interface in AWS), or a {{resolve:secretsmanager:…}} reference to one. */
  VIGIL_SMTP_URL: z.optional(z.string().check(z.regex(/^(smtps?:\/\/.+|\{\{resolve:(secretsmanager|ssm):[^{}\s]+\}\})$/, "must be an smtp(s):// URL or a {{resolve:…}} reference"))),
  VIGIL_EMAIL_FROM: z.optional(z.string().check(z.minLength(3), z.maxLength(320))),
  /** ISO-8601 duration between reminders of a group that lasts, e.g. PT4H. */
  /** Key that signs the links in alert messages (at least 32 characters); locally one is made and kept in the data directory. */
  VIGIL_LINK_SECRET: z.optional(z.string().check(z.minLength(32, "must be at least 32 characters"))),
  VIGIL_REPEAT_INTERVAL: z.optional(z.string().check(z.regex(REPEAT_INTERVAL, "must be an ISO-8601 duration of days, hours, minutes or seconds, such as PT4H"))),
};

/** Most time series one shard of a metric set's model holds (docs/scaling.md: what one worker or one invocation of 1,024 MB scores in its memory). */
const Sharding = {
  VIGIL_SHARD_SERIES: z.optional(z.coerce.number().check(z.int(), z.minimum(1_000, "must be at least 1000"), z.maximum(1_000_000, "must be at most 1000000"))),
};

export const RuntimeConfig = z.discriminatedUnion("VIGIL_MODE", [
  z.strictObject({
    VIGIL_MODE: z.literal("local"),
    VIGIL_DATA_DIR: z._default(z.string().check(z.minLength(1)), "vigil-data"),
    ...Alerting,
    ...Sharding,
  }),
  z.strictObject({
    VIGIL_MODE: z.literal("aws"),
    ...Alerting,
    ...Sharding,
    /** URL of the shard queue: a metric set's shards are run from it (detect queues them; the shard function takes them). */
    VIGIL_SHARD_QUEUE_URL: z.optional(z.url()),
    /** URL of the delivery queue (alert sends to it; deliver parks what fails in the record table). */
    VIGIL_DELIVERY_QUEUE_URL: z.optional(z.url()),
    /** Or its name, the URL completed from the running function's ARN (serverless.yml gives names). */
    VIGIL_DELIVERY_QUEUE: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/, "must be an SQS queue name"))),
    VIGIL_SHARD_QUEUE: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/, "must be an SQS queue name"))),
    VIGIL_TABLE: z.string().check(z.minLength(3), z.maxLength(255)),
    VIGIL_RESULTS_ROOT: z.string().check(z.regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, "must be an s3://bucket/prefix URI")),
    AWS_REGION: z.string().check(z.minLength(1)),
    /** The name of the SNS topic detection announces anomaly groups on (its ARN is completed from the function's own). */
    VIGIL_EVENTS_TOPIC: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,256}$/, "must be an SNS topic name"))),
  }),
]);
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

const ALERTING_KEYS = ["VIGIL_PUBLIC_URL", "VIGIL_SMTP_URL", "VIGIL_EMAIL_FROM", "VIGIL_REPEAT_INTERVAL", "VIGIL_LINK_SECRET"] as const;
const KEYS = ["VIGIL_MODE", "VIGIL_DATA_DIR", "VIGIL_TABLE", "VIGIL_RESULTS_ROOT", "AWS_REGION", "VIGIL_EVENTS_TOPIC", "VIGIL_DELIVERY_QUEUE_URL", "VIGIL_DELIVERY_QUEUE", "VIGIL_SHARD_QUEUE_URL", "VIGIL_SHARD_QUEUE", "VIGIL_SHARD_SERIES", ...ALERTING_KEYS] as const;

export function configFromEnv(env: NodeJS.ProcessEnv): RuntimeConfig {
  const mode = env["VIGIL_MODE"] ?? "local";
  const relevant = mode === "aws" ? KEYS.filter((k) => k !== "VIGIL_DATA_DIR") : ["VIGIL_MODE", "VIGIL_DATA_DIR", "VIGIL_SHARD_SERIES", ...ALERTING_KEYS];
  const picked = Object.fromEntries([["VIGIL_MODE", mode], ...relevant.flatMap((k) => (env[k] === undefined || env[k] === "" || k === "VIGIL_MODE" ? [] : [[k, env[k]]]))]);
  try {
    return parseOrThrow(RuntimeConfig, picked, "environment");
  } catch (e) {
    if (e instanceof ValidationException) throw new ValidationException(`Bad Vigil settings: ${e.fields.map((f) => `${f.Name} ${f.Message}`).join("; ")}`, { fields: e.fields });
    throw e;
  }
}

