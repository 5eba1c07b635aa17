import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { shardMessage, type ShardMessage } from "../../shared/app/shard-queue.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";
import { messageOf, sqsEventOf } from "../../shared/runtime/queue-events.ts";
import { ShardMessageSchema } from "../../shared/runtime/shard-messages.ts";

/**
 * shard: a metric set's shard jobs and merges, from the shard queue. Records run one after
 * another (a job takes the memory of one invocation); one that fails is reported alone, so
 * the queue gives it again, and after its last attempt moves it to the dead-letter queue,
 * which shardParked takes: the run's interval is then FAILED, with the reason.
 */
const observer = powertoolsObserver();
let functionArn: string | undefined;
const services = servicesOnce(configFromEnv(process.env), { observer, invokedFunctionArn: () => functionArn });
// Failed records are reported, never thrown, even when every record of a batch failed: the queue gives each back alone.
const processor = new BatchProcessor(EventType.SQS);

const messageIn = (body: string) => messageOf(ShardMessageSchema, body, "shard message") as ShardMessage;

export async function shard(event: unknown, context?: { invokedFunctionArn?: string }) {
  functionArn = context?.invokedFunctionArn;
  const batch = sqsEventOf(event);
  const s = await services();
  return processPartialResponse(batch, async (record: { body: string }) => void (await shardMessage(s, messageIn(record.body), Date.now())), processor, { processInParallel: false, throwOnFullBatchFailure: false, ...(context ? { context: context as never } : {}) });
}

export const handler = middy(shard).use(injectLambdaContext(observer.logger)).use(logMetrics(observer.metrics, { captureColdStartMetric: true }));
