import { z } from "zod";
import { parseOrThrow } from "../model/validate.ts";

/** The part of an EventBridge scheduled event detection needs: when it fired. */
const ScheduledEvent = z.looseObject({
  "detail-type": z.literal("Scheduled Event"),
  time: z.iso.datetime({ offset: true }),
});

/** The clock reading of one detect run: the schedule's firing time, taken once at the edge. */
export function firingTime(event: unknown): number {
  return Date.parse(parseOrThrow(ScheduledEvent, event, "scheduled event").time);
}
