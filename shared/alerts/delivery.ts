import * as z from "zod";
import { ContributorsSchema, GroupChartSchema, RelevantTimeSeriesSchema } from "../model/anomaly-event.ts";
import type { AlertMessage } from "./message.ts";
import type { FailureReason } from "../channels/channel.ts";

/**
 * One message for one alert, as it travels from alerting to delivery (an SQS message in
 * AWS). It holds no secret: the channel's settings are read from the alert when sending.
 */
export interface Delivery {
  readonly deliveryId: string;
  readonly alertArn: string;
  readonly message: AlertMessage;
}

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

/** Where failed deliveries wait (the dead-letter queue in AWS, a file locally). */
export interface DeadLetters {
  park(parked: ParkedDelivery): Promise<void>;
  /** Hands each parked delivery to `retry`; those it returns true for are removed. */
  drain(retry: (parked: ParkedDelivery) => Promise<boolean>): Promise<{ retried: number; remaining: number }>;
}

const num = z.number().finite();
/** A delivery as the deliver function receives it from the queue. */
export const DeliverySchema = z.strictObject({
  deliveryId: z.string().min(1).max(1024),
  alertArn: z.string().startsWith("arn:"),
  message: z.strictObject({
    deliveryId: z.string(),
    eventId: z.string(),
    reason: z.enum(["first", "severityChanged", "grew", "repeatElapsed", "ended"]),
    alert: z.strictObject({ name: z.string(), arn: z.string(), description: z.string().nullable() }),
    detector: z.strictObject({ name: z.string(), arn: z.string() }),
    metricSetArn: z.string(),
    anomalyGroupId: z.string(),
    score: num,
    severity: z.enum(["LOW", "HIGH", "SEVERE", "CRITICAL"]),
    color: z.string(),
    measure: z.string(),
    direction: z.enum(["UP", "DOWN"]),
    actual: num,
    expected: num,
    changePercent: num.nullable(),
    start: num,
    at: num,
    end: num,
    ended: z.boolean(),
    contributors: ContributorsSchema,
    contributions: z.array(z.strictObject({ name: z.string(), values: z.array(z.strictObject({ value: z.string(), share: num })) })),
    relevantTimeSeries: RelevantTimeSeriesSchema,
    chart: GroupChartSchema,
    links: z.strictObject({ anomalyGroup: z.string(), feedback: z.string() }),
  }),
});

