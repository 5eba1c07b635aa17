import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { PartialItemFailureResponse } from "@aws-lambda-powertools/batch/types";
import * as z from "../model/zod.ts";
import { ValidationException } from "../model/errors.ts";
import { parseOrThrow } from "../model/validate.ts";

/**
 * SQS batches, as the alert and deliver functions receive them. A record's body is the
 * message itself, or an SNS notification wrapping it (a topic subscription without raw
 * message delivery); both are accepted.
 */
export const SqsEvent = z.looseObject({
  Records: z
    .array(z.looseObject({ messageId: z.string().check(z.minLength(1)), eventSource: z.literal("aws:sqs"), body: z.string(), receiptHandle: z.string(), attributes: z.looseObject({}) }))
    .check(z.minLength(1, "must hold at least one record")),
});
export type SqsEvent = z.infer<typeof SqsEvent>;

export const sqsEventOf = (event: unknown): SqsEvent => parseOrThrow(SqsEvent, event, "SQS event");

const SnsEnvelope = z.looseObject({ Type: z.literal("Notification"), Message: z.string() });

/** The message a record carries, checked against `schema`. */
export function messageOf<T>(schema: z.ZodMiniType<T>, body: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ValidationException(`The ${what} is not JSON`, { reason: "CANNOT_PARSE" });
  }
  const envelope = SnsEnvelope.safeParse(value);
  if (envelope.success) return messageOf(schema, envelope.data.Message, what);
  return parseOrThrow(schema, value, what);
}

/**
 * A batch handled as one: the records whose body parses go to `run` together, which
 * answers one result per item, in order; a record that does not parse, or whose item
 * failed, is reported as a batch item failure (and comes back), the others are done.
 */
export async function handleBatch<T>(
  batch: SqsEvent,
  parse: (body: string) => T,
  run: (items: T[]) => Promise<PromiseSettledResult<unknown>[]>,
  context?: object,
): Promise<PartialItemFailureResponse> {
  const parsed = batch.Records.map((r) => {
    try {
      return { id: r.messageId, item: parse(r.body), ok: true as const };
    } catch (error) {
      return { id: r.messageId, error, ok: false as const };
    }
  });
  const results = await run(parsed.flatMap((p) => (p.ok ? [p.item] : [])));
  const outcome = new Map<string, PromiseSettledResult<unknown>>();
  let i = 0;
  for (const p of parsed) outcome.set(p.id, p.ok ? results[i++]! : { status: "rejected", reason: p.error });
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    batch,
    async (record: { messageId: string }) => {
      const result = outcome.get(record.messageId)!;
      if (result.status === "rejected") throw result.reason;
    },
    processor,
    context ? { context: context as never } : {},
  );
}
