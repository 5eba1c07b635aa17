import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { deliverAll, DeliverySchema } from "../../shared/app/alerting.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { handleBatch, messageOf, sqsEventOf } from "../../shared/runtime/queue-events.ts";

/**
 * deliver: deliveries off the queue, sent at once within each channel's limits, each with
 * retries or parked under its alert's account; the alerts they name are read once per
 * batch. A record fails the batch (and comes back) only when the invocation ran out of
 * time or crashed on it; the queue's redrive policy parks it after repeated crashes.
 */
const observer = powertoolsObserver();
// The queues' URLs are completed from the running function's ARN (serverless.yml gives their names).
let functionArn: string | undefined;
const services = servicesOnce(configFromEnv(process.env), { observer, invokedFunctionArn: () => functionArn });

/** How long before Lambda's deadline sends stop: time enough to answer which records failed. */
const STOP_BEFORE_DEADLINE_MS = 10_000;

/**
 * Aborted STOP_BEFORE_DEADLINE_MS before the invocation's deadline (or when `given` is). The
 * handler then answers its own partial batch: the records interrupted fail, those sent or
 * parked are done. (middy's timeoutEarly answers in the handler's stead, so Lambda took the
 * whole batch as failed, and sent what was sent again.)
 */
function stopSignal(context: { getRemainingTimeInMillis?: () => number } | undefined, given: AbortSignal | undefined): AbortSignal {
  const signals = given ? [given] : [];
  if (context?.getRemainingTimeInMillis) signals.push(AbortSignal.timeout(Math.max(0, context.getRemainingTimeInMillis() - STOP_BEFORE_DEADLINE_MS)));
  return AbortSignal.any(signals);
}

export async function deliver(event: unknown, context?: { invokedFunctionArn?: string; getRemainingTimeInMillis?: () => number }, options: { signal?: AbortSignal } = {}) {
  functionArn = context?.invokedFunctionArn;
  const batch = sqsEventOf(event);
  const signal = stopSignal(context, options.signal);
  const s = await services();
  return handleBatch(batch, (body) => messageOf(DeliverySchema, body, "delivery"), (deliveries) => deliverAll(s, deliveries, signal), context);
}

export const handler = middy(deliver).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics));
