import { z } from "zod";
import { ValidationException } from "../model/errors.ts";
import { parseOrThrow } from "../model/validate.ts";

/**
 * The functions' settings, read from the environment once at cold start. `local` keeps
 * records, results and models under VIGIL_DATA_DIR; the AWS adapters (DynamoDB, SNS, …)
 * plug in here as they arrive.
 */
export const RuntimeConfig = z.strictObject({
  VIGIL_MODE: z.enum(["local"]).default("local"),
  VIGIL_DATA_DIR: z.string().min(1).default("vigil-data"),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

export function configFromEnv(env: NodeJS.ProcessEnv): RuntimeConfig {
  const picked = Object.fromEntries(Object.keys(RuntimeConfig.shape).flatMap((k) => (env[k] === undefined ? [] : [[k, env[k]]])));
  try {
    return parseOrThrow(RuntimeConfig, picked, "environment");
  } catch (e) {
    if (e instanceof ValidationException) throw new ValidationException(`Bad Vigil settings: ${e.fields.map((f) => `${f.Name} ${f.Message}`).join("; ")}`, { fields: e.fields });
    throw e;
  }
}
