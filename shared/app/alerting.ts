import { deliver, releaseStaleDeliveryLease, type DeliverDeps, type DeliveryOutcome } from "../alerts/deliver.ts";
import type { Delivery } from "../alerts/delivery.ts";
export { DeliverySchema } from "../alerts/delivery.ts";
import { buildAlertPipeline, type AlertVerdict } from "../alerts/route.ts";
import { ResourceNotFoundException } from "../model/errors.ts";
import { eventIdOf, type AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { arnAccount } from "../model/ids.ts";
import type { Alert } from "../model/alert.ts";
import type { Silence } from "../model/silence.ts";
import { recordOutcome, recordVerdicts, replayParkedDeliveries } from "./notices.ts";
import { catalogOf, systemScope } from "./scope.ts";
import { retentionStart, type Services } from "./services.ts";

/**
 * The alert and deliver steps (DESIGN, flow 3 and 4) over the services: anomaly group
 * events are routed to their detectors' alerts, each message to tell onto the delivery
 * queue; each delivery is sent with retries, or parked. Both take a batch (an SQS batch,
 * or what one detection run announced): alert rules, silences and the alerts deliveries
 * name are read once per batch, not per event. Events and deliveries belong to the
 * detector's account; these steps run for the system, not for a caller.
 */

/** Events of different groups routed at once, at most this many. */
const GROUPS_AT_ONCE = 64;

/** A lookup made once per batch: every caller of the same key shares the first answer. */
function perBatch<T>(load: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const made = new Map<string, Promise<T>>();
  return (key) => {
    let found = made.get(key);
    if (!found) made.set(key, (found = load(key)));
    return found;
  };
}

/**
 * Routes a batch of events: which alerts match, are silenced, or have something new to
 * tell. Events of one anomaly group are routed in order (each reads the state the one
 * before left); events of different groups concurrently. One result per event, in order.
 */
export async function routeEvents(services: Services, events: readonly AnomalyGroupEvent[]): Promise<PromiseSettledResult<AlertVerdict[]>[]> {
  const settings = services.alertSettings;
  const now = services.clock();
  const alertsOf = perBatch((detectorArn) => catalogOf(services, systemScope(services, arnAccount(detectorArn))).listAlerts(detectorArn));
  const route = buildAlertPipeline({
    records: services.records,
    alertsOf,
    silencesOf: perBatch((account) => services.records.list<Silence>("silences", `${account}/`)),
    queue: services.deliveryQueue,
    publicUrl: settings.publicUrl,
    linkSecret: settings.linkSecret,
    linksMadeAt: services.linkClock(),
    repeatMs: settings.repeatMs,
    now,
    retentionStart: retentionStart(services, now),
  });
  const results: PromiseSettledResult<AlertVerdict[]>[] = new Array(events.length);
  const byGroup = new Map<string, number[]>();
  events.forEach((e, i) => {
    const key = `${e.anomalyDetectorArn}/${e.anomalyGroup.AnomalyGroupId}`;
    const indexes = byGroup.get(key);
    if (indexes) indexes.push(i);
    else byGroup.set(key, [i]);
  });
  await eachAtMost([...byGroup.values()], GROUPS_AT_ONCE, async (indexes) => {
    for (const i of indexes) {
      const event = events[i]!;
      try {
        const alerts = await alertsOf(event.anomalyDetectorArn);
        // What each alert decided, for the console's "why was I not alerted?", kept with the alerts' new state.
        const verdicts = await route(event, (v) => recordVerdicts(services, event, alerts, v));
        services.observer.routed(eventIdOf(event), verdicts);
        results[i] = { status: "fulfilled", value: verdicts };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  });
  return results;
}

/** Routes one event (a batch of one). */
export async function routeEvent(services: Services, event: AnomalyGroupEvent): Promise<AlertVerdict[]> {
  const [result] = await routeEvents(services, [event]);
  if (result!.status === "rejected") throw result!.reason;
  return result!.value;
}

/** The alerts deliveries name, each read once by whoever shares the lookup (a batch, by default). */
export type AlertLookup = (alertArn: string) => Promise<Alert | undefined>;

export const alertLookup = (services: Services): AlertLookup => perBatch((arn) => alertByArn(services, arn));

/** What the deliver step needs of the services, for one batch: the alerts it names are read once. */
export function deliverDepsOf(services: Services, alerts: AlertLookup = alertLookup(services)): DeliverDeps {
  return {
    records: services.records,
    alert: alerts,
    senders: services.senders,
    gate: services.deliveryGate,
    deadLetters: services.deadLetters,
    policy: services.alertSettings.policy,
    timer: services.timer,
    now: services.clock,
    retentionStart: () => retentionStart(services),
  };
}

async function alertByArn(services: Services, arn: string): Promise<Alert | undefined> {
  try {
    return await catalogOf(services, systemScope(services, arnAccount(arn))).getAlert(arn);
  } catch (e) {
    if (e instanceof ResourceNotFoundException) return undefined;
    throw e;
  }
}

/**
 * Sends a batch of deliveries at once, each once, with retries, within its channel's
 * limits (the services' gate); parks those that keep failing. One result per delivery.
 */
export async function deliverAll(services: Services, deliveries: readonly Delivery[], signal: AbortSignal, alerts?: AlertLookup): Promise<PromiseSettledResult<DeliveryOutcome>[]> {
  const deps = deliverDepsOf(services, alerts);
  return Promise.allSettled(
    deliveries.map(async (delivery) => {
      const outcome = await deliver(deps, delivery, signal);
      // What became of it, for the console's deliveries page.
      await recordOutcome(services, delivery, outcome, await deps.alert(delivery.alertArn));
      services.observer.delivered(delivery.deliveryId, outcome);
      return outcome;
    }),
  );
}

/** Sends one delivery once, with retries; parks it when it keeps failing. */
export async function deliverOne(services: Services, delivery: Delivery, signal: AbortSignal): Promise<DeliveryOutcome> {
  const [result] = await deliverAll(services, [delivery], signal);
  if (result!.status === "rejected") throw result!.reason;
  return result!.value;
}

/** `vigil replay`: every parked delivery is tried again; those sent (or already sent) leave the dead letters, and each left parked is told with why. */
export function replayDeliveries(services: Services, signal: AbortSignal, onStillParked?: (delivery: Delivery, why: string) => void): Promise<{ retried: number; remaining: number }> {
  return replayParkedDeliveries(services, undefined, signal, undefined, onStillParked);
}

/** After a stop without draining, the deliveries still queued are sent again by the next start: their stale leases go first. */
export const releaseStaleDelivery = (services: Services, deliveryId: string): Promise<boolean> => releaseStaleDeliveryLease(services.records, deliveryId);

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachAtMost<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
