import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { AnomalyGroupEventSchema, eventIdOf } from "../../shared/model/anomaly-event.ts";
import { routingFor } from "../../shared/runtime/alert-wiring.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { logger, metrics, recordVerdicts } from "../../shared/runtime/observability.ts";
import { messageOf, sqsEventOf } from "../../shared/runtime/queue-events.ts";

/** alert: anomaly group events (from the topic, through a queue) in; one delivery per alert to tell, onto the delivery queue. */
const route = routingFor(configFromEnv(process.env));
const processor = new BatchProcessor(EventType.SQS);

export async function alert(event: unknown, context?: object) {
  const batch = sqsEventOf(event);
  const now = Date.now(); // one clock reading per invocation
  return processPartialResponse(
    batch,
    async (record: { body: string }) => {
      const groupEvent = messageOf(AnomalyGroupEventSchema, record.body, "anomaly group event");
      recordVerdicts(eventIdOf(groupEvent), await route(groupEvent, now));
    },
    processor,
    context ? { context: context as never } : {},
  );
}

export const handler = middy(alert).use(injectLambdaContext(logger)).use(logMetrics(metrics));
