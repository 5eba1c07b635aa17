import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { ingestDue } from "../../shared/app/ingest.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { triggerOf } from "../../shared/runtime/trigger.ts";

/** ingest: on the schedule, pull each CloudWatch metric set's closed intervals into canonical files. */
const observer = powertoolsObserver();
const services = servicesOnce(configFromEnv(process.env), { observer });

export async function ingest(event: unknown) {
  const trigger = triggerOf(event);
  if (trigger.kind !== "schedule") return { ingested: [] };
  const runs = await ingestDue(await services(), trigger.now);
  return { ingested: runs.map((r) => ({ metricSetArn: r.metricSet.MetricSetArn, intervalStart: new Date(r.intervalStart).toISOString(), rows: r.rows, file: r.file })) };
}

export const handler = middy(ingest).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics));
