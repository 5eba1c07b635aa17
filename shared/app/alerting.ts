import { deliver, releaseStaleDeliveryLease, type DeliverDeps, type DeliveryOutcome } from "../alerts/deliver.ts";
import type { Delivery } from "../alerts/delivery.ts";
import { buildAlertPipeline, type AlertVerdict } from "../alerts/route.ts";
import { ResourceNotFoundException } from "../model/errors.ts";
import { eventIdOf, type AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { arnAccount } from "../model/ids.ts";
import type { Alert } from "../model/alert.ts";
import { recordOutcome, recordVerdicts, replayParkedDeliveries } from "./notices.ts";
import { catalogOf, systemScope } from "./scope.ts";
import type { Services } from "./services.ts";

/**
 * The alert and deliver steps (DESIGN, flow 3 and 4) over the services: an anomaly group
 * event is routed to its detector's alerts, each message to tell onto the delivery queue;
 * each delivery is sent with retries, or parked. Events and deliveries belong to the
 * detector's account; these steps run for the system, not for a caller.
 */

/** Routes one event: which alerts match, are silenced, or have something new to tell. */
export async function routeEvent(services: Services, event: AnomalyGroupEvent): Promise<AlertVerdict[]> {
  const catalog = catalogOf(services, systemScope(services, arnAccount(event.anomalyDetectorArn)));
  const settings = services.alertSettings;
  const now = services.clock();
  let alerts: Alert[] = [];
  const route = buildAlertPipeline({
    records: services.records,
    alertsOf: async (arn) => (alerts = await catalog.listAlerts(arn)),
    queue: services.deliveryQueue,
    publicUrl: settings.publicUrl,
    linkSecret: settings.linkSecret,
    linksMadeAt: services.linkClock(),
    repeatMs: settings.repeatMs,
    now,
  });
  const verdicts = await route(event);
  await recordVerdicts(services, event, alerts, verdicts);
  services.observer.routed(eventIdOf(event), verdicts);
  return verdicts;
}

/** What the deliver step needs of the services. */
export function deliverDepsOf(services: Services): DeliverDeps {
  return {
    records: services.records,
    alert: (arn) => alertByArn(services, arn),
    senders: services.senders,
    deadLetters: services.deadLetters,
    policy: services.alertSettings.policy,
    timer: services.timer,
    now: services.clock,
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

/** Sends one delivery once, with retries; parks it when it keeps failing. */
export async function deliverOne(services: Services, delivery: Delivery, signal: AbortSignal): Promise<DeliveryOutcome> {
  const outcome = await deliver(deliverDepsOf(services), delivery, signal);
  await recordOutcome(services, delivery, outcome, await alertByArn(services, delivery.alertArn));
  services.observer.delivered(delivery.deliveryId, outcome);
  return outcome;
}

/** `vigil replay`: every parked delivery is tried again; those sent (or already sent) leave the dead letters. */
export function replayDeliveries(services: Services, signal: AbortSignal): Promise<{ retried: number; remaining: number }> {
  return replayParkedDeliveries(services, undefined, signal);
}

/** After a stop without draining, the deliveries still queued are sent again by the next start: their stale leases go first. */
export const releaseStaleDelivery = (services: Services, deliveryId: string): Promise<boolean> => releaseStaleDeliveryLease(services.records, deliveryId);
