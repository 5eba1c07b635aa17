import * as z from "zod";
import { ValidationException } from "../model/errors.ts";
import { parseOrThrow } from "../model/validate.ts";

/**
 * The functions' settings, read from the environment once at cold start (strict: a
 * misspelt mode or a missing table is an error, not a default). `local` keeps records,
 * results and models under VIGIL_DATA_DIR; `aws` keeps records in the DynamoDB table
 * VIGIL_TABLE and results and models under the S3 prefix VIGIL_RESULTS_ROOT.
 */
export const RuntimeConfig = z.discriminatedUnion("VIGIL_MODE", [
  z.strictObject({
    VIGIL_MODE: z.literal("local"),
    VIGIL_DATA_DIR: z.string().min(1).default("vigil-data"),
  }),
  z.strictObject({
    VIGIL_MODE: z.literal("aws"),
    VIGIL_TABLE: z.string().min(3).max(255),
    VIGIL_RESULTS_ROOT: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, "must be an s3://bucket/prefix URI"),
    AWS_REGION: z.string().min(1),
    /** The name of the SNS topic detection announces anomaly groups on (its ARN is completed from the function's own). */
    VIGIL_EVENTS_TOPIC: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, "must be an SNS topic name").optional(),
    /** Needed only to mint ARNs (the API); detection and ingest never do. */
    VIGIL_ACCOUNT_ID: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id").optional(),
  }),
]);
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

const KEYS = ["VIGIL_MODE", "VIGIL_DATA_DIR", "VIGIL_TABLE", "VIGIL_RESULTS_ROOT", "AWS_REGION", "VIGIL_EVENTS_TOPIC", "VIGIL_ACCOUNT_ID"] as const;

export function configFromEnv(env: NodeJS.ProcessEnv): RuntimeConfig {
  const mode = env["VIGIL_MODE"] ?? "local";
  const relevant = mode === "aws" ? KEYS.filter((k) => k !== "VIGIL_DATA_DIR") : ["VIGIL_MODE", "VIGIL_DATA_DIR"];
  const picked = Object.fromEntries([["VIGIL_MODE", mode], ...relevant.flatMap((k) => (env[k] === undefined || k === "VIGIL_MODE" ? [] : [[k, env[k]]]))]);
  try {
    return parseOrThrow(RuntimeConfig, picked, "environment");
  } catch (e) {
    if (e instanceof ValidationException) throw new ValidationException(`Bad Vigil settings: ${e.fields.map((f) => `${f.Name} ${f.Message}`).join("; ")}`, { fields: e.fields });
    throw e;
  }
}
