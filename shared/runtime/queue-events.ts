import * as z from "zod";
import type { ZodType } from "zod";
import { ValidationException } from "../model/errors.ts";
import { parseOrThrow } from "../model/validate.ts";

/**
 * SQS batches, as the alert and deliver functions receive them. A record's body is the
 * message itself, or an SNS notification wrapping it (a topic subscription without raw
 * message delivery); both are accepted.
 */
export const SqsEvent = z.looseObject({
  Records: z
    .array(z.looseObject({ messageId: z.string().min(1), eventSource: z.literal("aws:sqs"), body: z.string(), receiptHandle: z.string(), attributes: z.looseObject({}) }))
    .min(1, "must hold at least one record"),
});
export type SqsEvent = z.infer<typeof SqsEvent>;

export const sqsEventOf = (event: unknown): SqsEvent => parseOrThrow(SqsEvent, event, "SQS event");

const SnsEnvelope = z.looseObject({ Type: z.literal("Notification"), Message: z.string() });

/** The message a record carries, checked against `schema`. */
export function messageOf<T>(schema: ZodType<T>, body: string, what: string): T {
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
