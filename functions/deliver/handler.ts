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

export async function deliver(event: unknown, context?: { invokedFunctionArn?: string }, options: { signal?: AbortSignal } = {}) {
  functionArn = context?.invokedFunctionArn;
  const batch = sqsEventOf(event);
  const signal = options.signal ?? new AbortController().signal;
  const s = await services();
  return handleBatch(batch, (body) => messageOf(DeliverySchema, body, "delivery"), (deliveries) => deliverAll(s, deliveries, signal), context);
}

/** Stops sends 10 s before Lambda's deadline, so unfinished records go back to the queue. */
export const handler = middy(deliver, { timeoutEarlyInMillis: 10_000 }).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics));
