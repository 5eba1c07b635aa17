import type { Clock, Observer, PulledSource, Services } from "../app/index.ts";
import { awsServices } from "./aws.ts";
import type { RuntimeConfig } from "./config.ts";

/** What an edge may add to the services its mode builds. */
export interface ServiceOptions {
  readonly clock?: Clock;
  readonly observer?: Observer;
  /** Lambda's context: the running function's ARN, read at each invocation. */
  readonly invokedFunctionArn?: () => string | undefined;
  /** Local mode: a CloudWatch source (tests point one at a local server). */
  readonly cloudwatch?: PulledSource;
}

/**
 * The one place a mode is chosen: every Lambda handler, `vigil serve`, `vigil replay`, the
 * demo and the tests get their services here. The AWS root is part of every function (its
 * clients are made on first use); the local root is loaded only in local mode.
 */
export async function servicesFor(config: RuntimeConfig, options: ServiceOptions = {}): Promise<Services> {
  if (config.VIGIL_MODE === "aws") return awsServices(config, options);
  const [{ localServices }, { alertSettingsOf }] = await Promise.all([import("./local.ts"), import("./settings.ts")]);
  return localServices(config.VIGIL_DATA_DIR, { ...options, settings: alertSettingsOf(config), ...(config.VIGIL_SHARD_SERIES ? { shardCapacity: config.VIGIL_SHARD_SERIES } : {}) });
}

/**
 * The services of a Lambda function, made on its first invocation and kept for the next:
 * a handler module holds this, not the services, so it loads without top-level await
 * (`serverless invoke local` requires handler modules).
 */
export function servicesOnce(config: RuntimeConfig, options: ServiceOptions = {}): () => Promise<Services> {
  let made: Promise<Services> | undefined;
  return () => (made ??= servicesFor(config, options));
}
