import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { SNSClient } from "@aws-sdk/client-sns";
import middy from "@middy/core";
import { detectDue } from "../../shared/detect/run-due.ts";
import { triggerOf } from "../../shared/runtime/trigger.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { logger, metrics, recordIntervalRun } from "../../shared/runtime/observability.ts";
import { runtimeFactory } from "../../shared/runtime/wiring.ts";
import { SnsEventPublisher } from "../../shared/store/sns-events.ts";

/** detect: on the schedule or a new file, every due interval of every active detector, oldest first. */
const runtimeAt = runtimeFactory(configFromEnv(process.env), { events: (region, topicArn) => new SnsEventPublisher(new SNSClient({ region }), topicArn) });

export async function detect(event: unknown, context?: { invokedFunctionArn?: string }) {
  const trigger = triggerOf(event);
  const runtime = runtimeAt(() => trigger.now, context?.invokedFunctionArn);
  const runs = await detectDue(runtime, runtime.catalog, trigger.now, (run) => recordIntervalRun(run, trigger.now));
  return {
    trigger: trigger.kind,
    intervals: runs.map((r) => ({
      metricSetArn: r.metricSet.MetricSetArn,
      intervalStart: new Date(r.intervalStart).toISOString(),
      outcome: r.outcome.kind,
      anomalyGroupId: r.outcome.kind === "processed" ? r.outcome.group?.AnomalyGroupId : undefined,
    })),
  };
}

export const handler = middy(detect).use(injectLambdaContext(logger)).use(logMetrics(metrics, { captureColdStartMetric: true }));
