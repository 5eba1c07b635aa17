import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { runBackTests } from "../../shared/app/backtest.ts";
import { detectDue } from "../../shared/app/detect.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { triggerOf } from "../../shared/runtime/trigger.ts";

/** detect: on the schedule or a new file, the back-tests asked for, then every due interval of every detecting detector, oldest first. */
const observer = powertoolsObserver();
let functionArn: string | undefined;
const services = servicesOnce(configFromEnv(process.env), { observer, invokedFunctionArn: () => functionArn });

export async function detect(event: unknown, context?: { invokedFunctionArn?: string }) {
  functionArn = context?.invokedFunctionArn;
  const trigger = triggerOf(event);
  // Back-tests asked for through the API run here, as work apart from the request.
  const backTests = await runBackTests(await services());
  const runs = await detectDue(await services(), trigger.now, trigger.kind === "object-created" ? { arrived: trigger.objects } : {});
  return {
    trigger: trigger.kind,
    backTests,
    intervals: runs.map((r) => ({
      metricSetArn: r.metricSet.MetricSetArn,
      intervalStart: new Date(r.intervalStart).toISOString(),
      outcome: r.outcome.kind,
      anomalyGroupId: r.outcome.kind === "processed" ? r.outcome.group?.AnomalyGroupId : undefined,
    })),
  };
}

export const handler = middy(detect).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics, { captureColdStartMetric: true }));
