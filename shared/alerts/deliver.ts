import { channelOf, type Alert } from "../model/alert.ts";
import type { RecordStore } from "../store/records.ts";
import { sendVia, type Senders } from "./channel.ts";
import type { DeadLetters, Delivery, ParkedDelivery } from "./delivery.ts";
import { sendWithRetry, type RetryTimer, type RetryPolicy } from "./retry.ts";

/**
 * The deliver step (DESIGN, flow 4): dedup → send with retries → record, as Alertmanager
 * does. The record of a delivery is written only after the channel took it, and read
 * first, so a re-run never sends twice; a lease keeps two concurrent runs of the same
 * delivery from both sending. What cannot be sent is parked with its reason.
 */
export interface DeliverDeps {
  readonly records: RecordStore;
  readonly alert: (alertArn: string) => Promise<Alert | undefined>;
  readonly senders: Senders;
  readonly deadLetters: DeadLetters;
  readonly policy: RetryPolicy;
  readonly timer: RetryTimer;
  readonly now: () => number;
}

export type DeliveryOutcome =
  | { readonly kind: "sent"; readonly attempts: number }
  | { readonly kind: "duplicate" }
  | { readonly kind: "parked"; readonly attempts: number; readonly detail: string };

/** What is kept of a sent delivery: enough to answer "was this sent, when, where". */
export interface DeliveryRecord {
  readonly deliveryId: string;
  readonly alertArn: string;
  readonly channel: string;
  readonly sentAt: number;
  readonly attempts: number;
}

/** The invocation's time ran out mid-delivery: not the channel's fault, so not parked. */
export class DeliveryInterrupted extends Error {
  override readonly name = "DeliveryInterrupted";
  constructor(readonly deliveryId: string) {
    super(`delivery ${deliveryId} was interrupted by the end of the invocation; it stays on the queue`);
  }
}

const DAY = 86_400_000;
export const DELIVERY_RETENTION_MS = 90 * DAY;
/** Longer than any delivery's retries can take. */
const DELIVERY_LEASE_MS = 15 * 60_000;
const leaseOf = (deliveryId: string) => `delivery/${deliveryId}`;

export async function deliver(deps: DeliverDeps, delivery: Delivery, signal: AbortSignal, options: { replay?: boolean } = {}): Promise<DeliveryOutcome> {
  if (await deps.records.get("deliveries", delivery.deliveryId)) return { kind: "duplicate" };
  const lease = leaseOf(delivery.deliveryId);
  if (!(await deps.records.claim(lease, deps.now() + DELIVERY_LEASE_MS, deps.now()))) {
    if (!options.replay) return { kind: "duplicate" };
    await deps.records.delete("leases", lease); // a replay is deliberate: it takes over a parked delivery's lease
    if (!(await deps.records.claim(lease, deps.now() + DELIVERY_LEASE_MS, deps.now()))) return { kind: "duplicate" };
  }
  const alert = await deps.alert(delivery.alertArn);
  // A replayed delivery that fails again stays where it is parked.
  const fail = (reason: ParkedDelivery["reason"], detail: string, attempts: number) => (options.replay ? Promise.resolve({ kind: "parked" as const, attempts, detail }) : park(deps, delivery, reason, detail, attempts));
  if (!alert) return fail("ALERT_GONE", `alert ${delivery.alertArn} no longer exists`, 0);
  const channel = channelOf(alert.Action);
  const { result, attempts } = await sendWithRetry(() => sendVia(deps.senders, delivery.message, channel, signal), deps.policy, deps.timer, signal);
  if (!result.ok && signal.aborted) {
    // The invocation ran out of time, not the channel: let the queue hand it over again.
    await deps.records.delete("leases", lease);
    throw new DeliveryInterrupted(delivery.deliveryId);
  }
  if (!result.ok) return fail(result.reason, result.detail, attempts);
  const record: DeliveryRecord = { deliveryId: delivery.deliveryId, alertArn: delivery.alertArn, channel: channel.kind, sentAt: deps.now(), attempts };
  await deps.records.put("deliveries", delivery.deliveryId, record, { expiresAt: deps.now() + DELIVERY_RETENTION_MS });
  return { kind: "sent", attempts };
}

async function park(deps: DeliverDeps, delivery: Delivery, reason: ParkedDelivery["reason"], detail: string, attempts: number): Promise<DeliveryOutcome> {
  await deps.deadLetters.park({ delivery, reason, detail, attempts, parkedAt: deps.now() });
  return { kind: "parked", attempts, detail };
}

/** `vigil replay`: every parked delivery is tried again; those sent (or already sent) leave the dead letters. */
export function replayParked(deps: DeliverDeps, signal: AbortSignal) {
  return deps.deadLetters.drain(async (parked) => (await deliver(deps, parked.delivery, signal, { replay: true })).kind !== "parked");
}

/**
 * A delivery a stopped process was sending (a crash, `kill -9`) holds its lease until it
 * runs out; the next start of the only process that delivers, which knows nobody else is
 * sending, releases it unless the delivery was recorded as sent. True when released.
 */
export async function releaseStaleDeliveryLease(records: RecordStore, deliveryId: string): Promise<boolean> {
  if (await records.get("deliveries", deliveryId)) return false;
  if (!(await records.get("leases", leaseOf(deliveryId)))) return false;
  await records.delete("leases", leaseOf(deliveryId));
  return true;
}
