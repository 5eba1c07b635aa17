import { channelOf, type Alert, type Channel } from "../model/alert.ts";
import { arnAccount } from "../model/ids.ts";
import type { RecordStore } from "../store/records.ts";
import { failed, sendVia, type Senders, type SendResult } from "./channel.ts";
import type { DeadLetters, Delivery, ParkedDelivery } from "./delivery.ts";
import type { DeliveryGate, Turn } from "./gate.ts";
import { sendWithRetry, type RetryTimer, type RetryPolicy } from "./retry.ts";

/**
 * The deliver step (DESIGN, flow 4): dedup → wait for a turn on the channel → send with
 * retries → record, as Alertmanager does. The record of a delivery is written only after
 * the channel took it, and read before and again once the delivery's lease is taken, so a
 * re-run never sends twice and a run that waited (on another, or for its turn) sends
 * nothing that one sent; the lease keeps concurrent runs of the same delivery (queue
 * redeliveries, any number of `vigil replay`) from both sending. A run gives its lease back
 * only when it is done without sending (parked, or cut short) and while the lease is surely
 * still its own; nothing takes or deletes a lease another run holds. Many deliveries run at
 * once; the gate keeps each channel within its limits (gate.ts), and a delivery waits its
 * turn before it takes its lease, so a lease is held only while sending. What cannot be
 * sent is parked with its reason.
 */
export interface DeliverDeps {
  readonly records: RecordStore;
  readonly alert: (alertArn: string) => Promise<Alert | undefined>;
  readonly senders: Senders;
  /** One per process: every delivery in flight queues there. */
  readonly gate: Pick<DeliveryGate, "enter">;
  readonly deadLetters: DeadLetters;
  readonly policy: RetryPolicy;
  readonly timer: RetryTimer;
  readonly now: () => number;
  /** Where a delivery's record starts its retention (services.ts' retentionStart). */
  readonly retentionStart: () => number;
}

export type DeliveryOutcome =
  | { readonly kind: "sent"; readonly attempts: number }
  | { readonly kind: "duplicate" }
  /** A replay found another run on it: it stays parked, for that run to settle or the next replay to take. */
  | { readonly kind: "in-progress" }
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
const wasSent = async (deps: DeliverDeps, delivery: Delivery) => (await deps.records.get("deliveries", delivery.deliveryId)) !== undefined;

/** An alert's channel, made once per alert read: a batch's deliveries to one alert share it (channels are not changed). */
const channels = new WeakMap<Alert, Channel>();
function channelFor(alert: Alert): Channel {
  let channel = channels.get(alert);
  if (!channel) channels.set(alert, (channel = channelOf(alert.Action)));
  return channel;
}

export async function deliver(deps: DeliverDeps, delivery: Delivery, signal: AbortSignal, options: { replay?: boolean } = {}): Promise<DeliveryOutcome> {
  if (await wasSent(deps, delivery)) return { kind: "duplicate" };
  const alert = await deps.alert(delivery.alertArn);
  const channel = alert && channelFor(alert);
  // Its turn is awaited before its lease is taken: a lease is held only while sending.
  const turn = channel && (await deps.gate.enter(channel, signal, arnAccount(delivery.alertArn)));
  if (channel && !turn) throw new DeliveryInterrupted(delivery.deliveryId);
  try {
    const lease = leaseOf(delivery.deliveryId);
    const until = deps.now() + DELIVERY_LEASE_MS;
    // Held: another run is on it. A replay leaves it parked; a redelivered message is dropped (the holder records or parks it).
    if (!(await deps.records.claim(lease, until, deps.now()))) return options.replay ? { kind: "in-progress" } : { kind: "duplicate" };
    // Given back while still its own (a conditional delete): one another run took over once it ran out stays that run's.
    const release = () => deps.records.release(lease, until);
    const outcome = await untilSent(deps, delivery, channel, turn, release, signal, options).catch(async (e: unknown) => {
      // Not sent (the store refused to park it, a read failed, the invocation ended): given back, so the queue's next hand-over
      // tries it; held, that hand-over would take it for another run's and drop it.
      await release();
      throw e;
    });
    if (outcome.kind !== "sent") return outcome;
    const record: DeliveryRecord = { deliveryId: delivery.deliveryId, alertArn: delivery.alertArn, channel: outcome.channel, sentAt: deps.now(), attempts: outcome.attempts };
    // Sent: a record that cannot be written leaves the lease held, so no other run sends it again while it lasts.
    await deps.records.put("deliveries", delivery.deliveryId, record, { expiresAt: deps.retentionStart() + DELIVERY_RETENTION_MS });
    return { kind: "sent", attempts: outcome.attempts };
  } finally {
    turn?.release();
  }
}

/**
 * A delivery whose lease this run holds, sent (with its retries) or parked; or why neither.
 * Whatever it throws (the invocation's end included) was thrown before the message was sent,
 * and its caller gives the lease back.
 */
async function untilSent(
  deps: DeliverDeps,
  delivery: Delivery,
  channel: Channel | undefined,
  turn: Turn | undefined,
  release: () => Promise<unknown>,
  signal: AbortSignal,
  options: { replay?: boolean },
): Promise<Exclude<DeliveryOutcome, { kind: "sent" }> | { readonly kind: "sent"; readonly attempts: number; readonly channel: Channel["kind"] }> {
  // The run that held the lease before may have sent it since the first look (while this one waited for its turn, too).
  if (await wasSent(deps, delivery)) return { kind: "duplicate" };
  // A replayed delivery that fails again stays where it is parked. Parked, it is done with: the next replay may take it at once.
  const fail = async (reason: ParkedDelivery["reason"], detail: string, attempts: number) => {
    const outcome = options.replay ? { kind: "parked" as const, attempts, detail } : await park(deps, delivery, reason, detail, attempts);
    await release();
    return outcome;
  };
  if (!channel || !turn) return fail("ALERT_GONE", `alert ${delivery.alertArn} no longer exists`, 0);
  // What is left to send: to an email's recipients that have not taken it yet (a send refused for some, by this run or an earlier one).
  let target = await unsentPart(deps, delivery, channel);
  // Every recipient the alert names now took it already (it names fewer since): it is sent.
  if (!target) return { kind: "sent", attempts: 0, channel: channel.kind };
  const attempt = async () => {
    if (!(await turn.pace(signal))) return failed(true, "TIMEOUT", "the invocation ran out of time");
    const result = await sendVia(deps.senders, delivery.message, target!, signal);
    turn.after(pauseHonoured(result, deps.policy));
    // Taken by some recipients, refused by others: recorded before anything else, so no retry, replay or later run mails them again.
    if (!result.ok && result.accepted?.length && target!.kind === "email") {
      const left = await tookIt(deps, delivery, target!, result.accepted);
      if (!left) return { ok: true as const };
      target = left;
    }
    return result;
  };
  const { result, attempts } = await sendWithRetry(attempt, deps.policy, deps.timer, signal);
  // The invocation ran out of time, not the channel: the queue hands it over again.
  if (!result.ok && signal.aborted) throw new DeliveryInterrupted(delivery.deliveryId);
  if (!result.ok) return fail(result.reason, result.detail, attempts);
  return { kind: "sent", attempts, channel: channel.kind };
}

/** The recipients of an email that took it while others refused it (kept as long as the delivery's record). */
export interface RecipientsTaken {
  readonly deliveryId: string;
  readonly accepted: readonly string[];
}

/** An address as a recipient is compared: mail servers and nodemailer may change its case. */
const recipientKey = (address: string) => address.toLowerCase();

/** The channel as it is left to send: an email to the recipients that have not taken it yet; undefined when none is left. */
async function unsentPart(deps: DeliverDeps, delivery: Delivery, channel: Channel): Promise<Channel | undefined> {
  if (channel.kind !== "email") return channel;
  const taken = await deps.records.get<RecipientsTaken>("recipients", delivery.deliveryId);
  if (!taken) return channel;
  const took = new Set(taken.accepted.map(recipientKey));
  const to = channel.to.filter((address) => !took.has(recipientKey(address)));
  return to.length ? { ...channel, to } : undefined;
}

/**
 * Records that `accepted` took the email, beside those that took it before, and answers the
 * email to the others (undefined when none is left). A record that cannot be written throws:
 * the lease is given back, and the queue's next hand-over may mail those recipients again, as
 * after a crash between sending and recording.
 */
async function tookIt(deps: DeliverDeps, delivery: Delivery, email: Extract<Channel, { kind: "email" }>, accepted: readonly string[]): Promise<Channel | undefined> {
  const before = (await deps.records.get<RecipientsTaken>("recipients", delivery.deliveryId))?.accepted ?? [];
  const took = new Set(accepted.map(recipientKey));
  const record: RecipientsTaken = { deliveryId: delivery.deliveryId, accepted: [...before.filter((a) => !took.has(recipientKey(a))), ...accepted] };
  await deps.records.put("recipients", delivery.deliveryId, record, { expiresAt: deps.retentionStart() + DELIVERY_RETENTION_MS });
  const to = email.to.filter((address) => !took.has(recipientKey(address)));
  return to.length ? { ...email, to } : undefined;
}

/**
 * An answer as its destination's turn is told of it: a Retry-After longer than the policy waits
 * parks the delivery (retry.ts), and holds the destination no longer than the policy waits
 * either. Held as asked (a day, or more than a timer counts), the next delivery to it would
 * keep a slot of its channel kind, which every tenant's deliveries share, all that time.
 */
function pauseHonoured(result: SendResult, policy: RetryPolicy): SendResult {
  if (result.ok || result.retryAfterMs === undefined || result.retryAfterMs <= policy.maxRetryAfterMs) return result;
  return { ...result, retryAfterMs: policy.maxRetryAfterMs };
}

async function park(deps: DeliverDeps, delivery: Delivery, reason: ParkedDelivery["reason"], detail: string, attempts: number): Promise<Extract<DeliveryOutcome, { kind: "parked" }>> {
  await deps.deadLetters.park({ delivery, reason, detail, attempts, parkedAt: deps.now() });
  return { kind: "parked", attempts, detail };
}

/**
 * `vigil replay`: every parked delivery is tried again; those sent (or already sent) leave
 * the dead letters. One another run is sending stays: any number of replays may run at once.
 */
export function replayParked(deps: DeliverDeps, signal: AbortSignal) {
  return deps.deadLetters.drain(async (parked) => {
    const outcome = await deliver(deps, parked.delivery, signal, { replay: true });
    return outcome.kind === "sent" || outcome.kind === "duplicate";
  });
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
