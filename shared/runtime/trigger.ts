import * as z from "../model/zod.ts";
import { ValidationException } from "../model/errors.ts";
import { parseOrThrow } from "../model/validate.ts";

/**
 * What wakes a function: the EventBridge schedule, or S3 `ObjectCreated` on the data prefix
 * (a file arrived: due intervals may be run early). Either way, the services only need the
 * clock reading of the trigger, taken once at the edge (ingest only answers the schedule).
 */
const ScheduledEvent = z.looseObject({
  "detail-type": z.literal("Scheduled Event"),
  time: z.iso.datetime({ offset: true }),
});

/** An S3 notification's key as S3 sends it: URL-encoded, a space as `+`. */
const objectKey = (encoded: string) => decodeURIComponent(encoded.replace(/\+/g, " "));
const decodable = (encoded: string) => {
  try {
    objectKey(encoded);
    return true;
  } catch {
    return false;
  }
};

const S3Event = z.looseObject({
  Records: z
    .array(
      z.looseObject({
        eventSource: z.literal("aws:s3"),
        eventName: z.string().check(z.startsWith("ObjectCreated:", "must be an ObjectCreated event")),
        eventTime: z.iso.datetime({ offset: true }),
        s3: z.looseObject({ bucket: z.looseObject({ name: z.string().check(z.minLength(3)) }), object: z.looseObject({ key: z.string().check(z.minLength(1), z.refine(decodable, "must be URL-encoded, as S3 sends it")) }) }),
      }),
    )
    .check(z.minLength(1, "must hold at least one record")),
});

export type Trigger = { readonly kind: "schedule"; readonly now: number } | { readonly kind: "object-created"; readonly now: number; readonly objects: readonly string[] };

export function triggerOf(event: unknown): Trigger {
  if (typeof event === "object" && event !== null && "Records" in event) {
    const s3 = parseOrThrow(S3Event, event, "S3 event");
    return {
      kind: "object-created",
      now: Math.max(...s3.Records.map((r) => Date.parse(r.eventTime))),
      objects: s3.Records.map((r) => `s3://${r.s3.bucket.name}/${objectKey(r.s3.object.key)}`),
    };
  }
  if (typeof event === "object" && event !== null && "detail-type" in event) return { kind: "schedule", now: Date.parse(parseOrThrow(ScheduledEvent, event, "scheduled event").time) };
  throw new ValidationException("Not a detect trigger: expected an EventBridge scheduled event or an S3 ObjectCreated event", { reason: "CANNOT_PARSE" });
}
