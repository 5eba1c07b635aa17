import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { routeEvents } from "../../shared/app/alerting.ts";
import { AnomalyGroupEventSchema } from "../../shared/model/anomaly-event.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { handleBatch, messageOf, sqsEventOf } from "../../shared/runtime/queue-events.ts";

/**
 * alert: anomaly group events (from the topic, through a queue) in; one delivery per alert
 * to tell, onto the delivery queue. The batch is routed as one (rules and silences read
 * once); a record that is not an event, or whose routing failed, fails alone.
 */
const observer = powertoolsObserver();
// The queues' URLs are completed from the running function's ARN (serverless.yml gives their names).
let functionArn: string | undefined;
const services = servicesOnce(configFromEnv(process.env), { observer, invokedFunctionArn: () => functionArn });

export async function alert(event: unknown, context?: { invokedFunctionArn?: string }) {
  functionArn = context?.invokedFunctionArn;
  const batch = sqsEventOf(event);
  const now = Date.now(); // one clock reading per invocation
  const routing = { ...(await services()), clock: () => now };
  return handleBatch(batch, (body) => messageOf(AnomalyGroupEventSchema, body, "anomaly group event"), (events) => routeEvents(routing, events), context);
}

export const handler = middy(alert).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics));
