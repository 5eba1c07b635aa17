import * as z from "../model/zod.ts";
import { AlertMessageSchema } from "./message.ts";
import type { FailureReason } from "./channel.ts";
import type { DrainCounts } from "./replay.ts";

/**
 * One message for one alert, as it travels from alerting to delivery (an SQS message in
 * AWS). It holds no secret: the channel's settings are read from the alert when sending.
 */
export const DeliverySchema = z
  .strictObject({
    deliveryId: z.string().check(z.minLength(1), z.maxLength(1024)),
    alertArn: z.string().check(z.startsWith("arn:")),
    message: AlertMessageSchema,
  })
  // The channel is read from the alert `alertArn` names, and its account from the message's: they are the same alert, or the message is not delivered.
  .check(z.refine((d) => d.message.alert.arn === d.alertArn, { message: "names another alert than its message does", path: ["message", "alert", "arn"] }));
export type Delivery = z.infer<typeof DeliverySchema>;

/** A delivery that could not be sent, kept to be replayed. */
export interface ParkedDelivery {
  readonly delivery: Delivery;
  /** ALERT_GONE: the alert was deleted; UNHANDLED: delivery crashed on it until the queue gave up. */
  readonly reason: FailureReason | "ALERT_GONE" | "UNHANDLED";
  readonly detail: string;
  readonly attempts: number;
  /** Epoch ms. */
  readonly parkedAt: number;
}

/** Where alerting hands deliveries over (SQS in AWS; delivered in-process locally). */
export interface DeliveryQueue {
  enqueue(deliveries: readonly Delivery[]): Promise<void>;
}

/** Which parked deliveries a drain takes. */
export interface DrainOptions {
  /** Only this account's (the alert's account): a tenant's replay reads no other's. Every account's when absent (the operator's `vigil replay`). */
  readonly account?: string;
  /** Takes no more once it is aborted. */
  readonly signal?: AbortSignal;
  /** Told of a delivery sent again (or found sent) whose parked record could not be removed: it is counted as still parked, and why. */
  readonly onKept?: (parked: ParkedDelivery, why: string) => void;
}

/** Where failed deliveries wait, filed under their alert's account (the record table in AWS, a file locally). */
export interface DeadLetters {
  park(parked: ParkedDelivery): Promise<void>;
  /** Whether the delivery is parked (and not yet sent again). */
  holds(delivery: Delivery): Promise<boolean>;
  /**
   * Hands each parked delivery the options select to `retry`; those it returns true for are
   * removed. A retry that throws stops its account's drain (the page's other outcomes
   * stand): an account's drain throws that failure; the operator's (every account's) goes on
   * with the other accounts and then throws ReplayIncomplete.
   */
  drain(retry: (parked: ParkedDelivery) => Promise<boolean>, options?: DrainOptions): Promise<DrainCounts>;
}
