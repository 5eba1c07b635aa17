import type { Clock, Observer, PulledSource, Services } from "../app/index.ts";
import type { RuntimeConfig } from "./config.ts";
import { localServices } from "./local.ts";
import { alertSettingsOf } from "./settings.ts";

/** What an edge may add to the services its mode builds. */
export interface ServiceOptions {
  readonly clock?: Clock;
  readonly observer?: Observer;
  /** Lambda's context: the running function's ARN, read at each invocation. */
  readonly invokedFunctionArn?: () => string | undefined;
  /** Local mode: a CloudWatch source (tests point one at a local server). */
  readonly cloudwatch?: PulledSource;
  /** Local mode: the folders each account may read metric files from (vigil serve's tenants). */
  readonly dataRootsOf?: (accountId: string) => readonly string[] | undefined;
}

/**
 * The one place a mode is chosen: every Lambda handler, `vigil serve`, `vigil replay`, the
 * demo and the tests get their services here. The AWS root is loaded only in AWS mode.
 */
export async function servicesFor(config: RuntimeConfig, options: ServiceOptions = {}): Promise<Services> {
  if (config.VIGIL_MODE === "local") return localServices(config.VIGIL_DATA_DIR, { ...options, settings: alertSettingsOf(config) });
  return (await import("./aws.ts")).awsServices(config, options);
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
