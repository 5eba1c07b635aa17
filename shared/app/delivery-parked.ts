import * as z from "../model/zod.ts";
import type { DeliveryOutcome } from "../alerts/deliver.ts";
import { boundedDetail } from "../alerts/channel.ts";
import { DeliverySchema, type Delivery, type ParkedDelivery } from "../alerts/delivery.ts";
import { alertLookup } from "./alerting.ts";
import { recordOutcome } from "./notices.ts";
import type { Services } from "./services.ts";

const REASONS = ["HTTP_STATUS", "TIMEOUT", "NETWORK", "BLOCKED_URL", "FOREIGN_TARGET", "SECRET", "SMTP", "AWS", "ROLE", "ALERT_GONE", "UNHANDLED"] as const satisfies readonly ParkedDelivery["reason"][];

/** An SQS message holds at most 1 MiB (256 KiB before August 2025): no detail in one is longer. */
const SQS_MESSAGE_CHARS = 1024 * 1024;

const ParkedDeliverySchema = z.strictObject({
  delivery: DeliverySchema,
  reason: z.enum(REASONS),
  // Longer ones (parked before details were bounded) are taken, and kept to DETAIL_CHARS: a dead letter is never refused for its detail.
  detail: z.pipe(z.string().check(z.maxLength(SQS_MESSAGE_CHARS)), z.transform(boundedDetail)),
  attempts: z.int().check(z.minimum(0)),
  parkedAt: z.int().check(z.minimum(0)),
});

/**
 * A message of the delivery queue's dead-letter queue: a delivery the queue moved there
 * after it crashed deliver on every attempt, or one parked there, reason and all, before
 * parked deliveries were kept per account (read once, as a deployment takes them over).
 */
export const DeadLetterSchema = z.union([ParkedDeliverySchema, DeliverySchema]);
export type DeadLetter = ParkedDelivery | Delivery;

/** What a delivery the queue gave up on is parked with. */
export const UNHANDLED_DETAIL = "delivery failed on it until the queue moved it here";

/**
 * Parks a dead letter under its account, where the account's replay finds it; one already
 * sent is dropped. A delivery the queue gave up on is told as parked (the console's
 * deliveries, and the metric an alarm watches), as deliver tells one it parks itself; one
 * still parked (deliver parked it, then crashed before the queue heard) keeps its reason.
 */
export async function parkDeadLetter(services: Services, message: DeadLetter, now: number): Promise<void> {
  const delivery = "delivery" in message ? message.delivery : message;
  if (await services.records.get("deliveries", delivery.deliveryId)) return;
  if ("delivery" in message) return services.deadLetters.park(message);
  // Parked by deliver already (which then crashed before the queue heard): it keeps its reason and last error.
  if (await services.deadLetters.holds(delivery)) return;
  await services.deadLetters.park({ delivery, reason: "UNHANDLED", detail: UNHANDLED_DETAIL, attempts: 0, parkedAt: now });
  const outcome: DeliveryOutcome = { kind: "parked", attempts: 0, detail: UNHANDLED_DETAIL };
  await recordOutcome(services, delivery, outcome, await alertLookup(services)(delivery.alertArn));
  services.observer.delivered(delivery.deliveryId, outcome);
}
