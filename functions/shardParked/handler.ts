import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { parkedMessage } from "../../shared/app/shard-parked.ts";
import type { ShardMessage } from "../../shared/app/shard-queue.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { messageOf, sqsEventOf } from "../../shared/runtime/queue-events.ts";
import { ShardMessageSchema } from "../../shared/runtime/shard-messages.ts";

/**
 * shardParked: the shard queue's dead letters, a shard job or merge that failed on every
 * attempt. The run's interval is FAILED, with the reason its step last gave, and its lease
 * given back, so the next detection run tries it again from the committed model.
 */
const observer = powertoolsObserver();
const services = servicesOnce(configFromEnv(process.env), { observer });
// Failed records are reported, never thrown, even when every record of a batch failed: the queue gives each back alone.
const processor = new BatchProcessor(EventType.SQS);

const messageIn = (body: string) => messageOf(ShardMessageSchema, body, "shard message") as ShardMessage;

export async function parked(event: unknown, context?: object) {
  const batch = sqsEventOf(event);
  const s = await services();
  return processPartialResponse(batch, async (record: { body: string }) => void (await parkedMessage(s, messageIn(record.body), Date.now())), processor, { processInParallel: false, throwOnFullBatchFailure: false, ...(context ? { context: context as never } : {}) });
}

export const handler = middy(parked).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics));
