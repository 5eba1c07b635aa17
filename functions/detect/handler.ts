import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { backTestsAsked, type BackTestStop } from "../../shared/app/backtest.ts";
import { detectDue } from "../../shared/app/detect.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { triggerOf } from "../../shared/runtime/trigger.ts";

/** detect: on the schedule or a new file, the back-tests asked for, then every due interval of every detecting detector, oldest first. */
const observer = powertoolsObserver();
let functionArn: string | undefined;
const services = servicesOnce(configFromEnv(process.env), { observer, invokedFunctionArn: () => functionArn });

/** The share of an invocation's time back-tests may take: detection of every tenant has the rest. */
const BACK_TEST_SHARE = 0.5;

/**
 * What stops the invocation's back-tests: half of its time, after which the one running fails
 * with the reason (the next invocation would give it no longer). Without a deadline (invoked
 * locally), nothing does: runBackTests' own default.
 */
function backTestStop(context: { getRemainingTimeInMillis?: () => number } | undefined): BackTestStop | undefined {
  if (!context?.getRemainingTimeInMillis) return undefined;
  const ms = Math.max(0, Math.floor(context.getRemainingTimeInMillis() * BACK_TEST_SHARE));
  const reason = `The back-test did not finish within the ${Math.round(ms / 1000)} s a detect invocation gives back-tests (half of its time); back-test a shorter history`;
  return { signal: AbortSignal.timeout(ms), then: "fail", reason };
}

/** The back-tests asked for, within their share of the invocation: their runner is loaded only when a detector has one. */
async function runAskedBackTests(context: Parameters<typeof backTestStop>[0]): Promise<number> {
  if (!(await backTestsAsked(await services()))) return 0;
  const { runBackTests } = await import("../../shared/app/backtest-run.ts");
  return runBackTests(await services(), backTestStop(context));
}

export async function detect(event: unknown, context?: { invokedFunctionArn?: string; getRemainingTimeInMillis?: () => number }) {
  functionArn = context?.invokedFunctionArn;
  const trigger = triggerOf(event);
  // Back-tests asked for through the API run here, as work apart from the request, within their share of the invocation.
  const backTests = await runAskedBackTests(context);
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
