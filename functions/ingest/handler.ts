import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import middy from "@middy/core";
import { triggerOf } from "../../shared/runtime/trigger.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { logger, metrics, recordIngestRun } from "../../shared/runtime/observability.ts";
import { runtimeFactory } from "../../shared/runtime/wiring.ts";
import { cloudWatchSource } from "../../shared/sources/cloudwatch.ts";
import { ingestDue } from "../../shared/sources/ingest.ts";

/** ingest: on the schedule, pull each CloudWatch metric set's closed intervals into canonical files. */
const runtimeAt = runtimeFactory(configFromEnv(process.env), { cloudwatch: (region) => cloudWatchSource(new CloudWatchClient({ region })) });

export async function ingest(event: unknown) {
  const trigger = triggerOf(event);
  if (trigger.kind !== "schedule") return { ingested: [] };
  const runtime = runtimeAt(() => trigger.now);
  const runs = await ingestDue(runtime, runtime.catalog, trigger.now);
  for (const run of runs) recordIngestRun(run, trigger.now);
  return { ingested: runs.map((r) => ({ metricSetArn: r.metricSet.MetricSetArn, intervalStart: new Date(r.intervalStart).toISOString(), rows: r.rows, file: r.file })) };
}

export const handler = middy(ingest).use(injectLambdaContext(logger)).use(logMetrics(metrics));
