import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { DeadLetterSchema, parkDeadLetter, type DeadLetter } from "../../shared/app/delivery-parked.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { messageOf, sqsEventOf } from "../../shared/runtime/queue-events.ts";

/**
 * deliveryParked: the delivery queue's dead letters, deliveries that crashed deliver on
 * every attempt. Each is parked under its alert's account, as deliver parks what its
 * channel keeps refusing, for that tenant's replay alone. A record that cannot be read,
 * or not parked, is reported and stays on the queue (an alarm watches its depth).
 */
const observer = powertoolsObserver();
const services = servicesOnce(configFromEnv(process.env), { observer });
// Failed records are reported, never thrown, even when every record of a batch failed: the queue gives each back alone.
const processor = new BatchProcessor(EventType.SQS);

const messageIn = (body: string) => messageOf(DeadLetterSchema, body, "parked delivery") as DeadLetter;

export async function parked(event: unknown, context?: object) {
  const batch = sqsEventOf(event);
  const s = await services();
  return processPartialResponse(batch, async (record: { body: string }) => parkDeadLetter(s, messageIn(record.body), Date.now()), processor, { throwOnFullBatchFailure: false, ...(context ? { context: context as never } : {}) });
}

export const handler = middy(parked).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics));
