import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { deliverOne, DeliverySchema } from "../../shared/app/index.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { messageOf, sqsEventOf } from "../../shared/runtime/queue-events.ts";

/**
 * deliver: deliveries off the queue, each sent with retries or parked on the dead-letter
 * queue. A record fails the batch (and comes back) only when the invocation ran out of
 * time or crashed on it; the queue's redrive policy parks it after repeated crashes.
 */
const observer = powertoolsObserver();
// The queues' URLs are completed from the running function's ARN (serverless.yml gives their names).
let functionArn: string | undefined;
const services = servicesOnce(configFromEnv(process.env), { observer, invokedFunctionArn: () => functionArn });
const processor = new BatchProcessor(EventType.SQS);

export async function deliver(event: unknown, context?: { invokedFunctionArn?: string }, options: { signal?: AbortSignal } = {}) {
  functionArn = context?.invokedFunctionArn;
  const batch = sqsEventOf(event);
  const signal = options.signal ?? new AbortController().signal;
  const s = await services();
  return processPartialResponse(batch, async (record: { body: string }) => void (await deliverOne(s, messageOf(DeliverySchema, record.body, "delivery"), signal)), processor, context ? { context: context as never } : {});
}

/** Stops sends 10 s before Lambda's deadline, so unfinished records go back to the queue. */
export const handler = middy(deliver, { timeoutEarlyInMillis: 10_000 }).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics));
