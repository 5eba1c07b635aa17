import { deliver, DELIVERY_RETENTION_MS, type DeliveryOutcome } from "../alerts/deliver.ts";
import type { Delivery, ParkedDelivery } from "../alerts/delivery.ts";
import type { AlertVerdict } from "../alerts/route.ts";
import { channelOf, redactAlert, type Alert } from "../model/alert.ts";
import { eventIdOf, type AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { arnAccount } from "../model/ids.ts";
import type { RecordWrite } from "../store/records.ts";
import { deliverDepsOf } from "./alerting.ts";
import { catalogOf, type Scope } from "./scope.ts";
import { retentionStart, type Services } from "./services.ts";

/**
 * What alerting decided for each alert on each anomaly group event, and what became of the
 * message it sent: the console's deliveries ("what was sent where, what is parked"), the
 * alerts an incident told and to whom, and the routing half of "why was I not alerted?".
 * One record per event and alert, filed under the alert's account, kept as long as
 * delivery records (90 days).
 */
export type NoticeOutcome = "UNMATCHED" | "SILENCED" | "UNCHANGED" | "ENQUEUED";
export type DeliveryStatus = "PENDING" | "SENT" | "PARKED";

export interface Notice {
  readonly AnomalyDetectorArn: string;
  readonly AnomalyGroupId: string;
  /** The group's revision the event announced; absent for the event that ends the group. */
  readonly Revision?: number;
  readonly Ended: boolean;
  /** The event's interval, epoch ms. */
  readonly IntervalStart: number;
  readonly GroupScore: number;
  readonly AlertArn: string;
  readonly AlertName: string;
  readonly Outcome: NoticeOutcome;
  readonly SilenceId?: string;
  readonly SilenceReason?: string;
  /** Why a message was sent: first, severityChanged, grew, repeatElapsed, ended. */
  readonly NotifyReason?: string;
  readonly DeliveryId?: string;
  readonly Status?: DeliveryStatus;
  readonly Channel?: string;
  /** Where it went, with secrets hidden as the API hides them. */
  readonly Target?: string;
  readonly Attempts?: number;
  readonly LastError?: string;
  /** Epoch ms of the last change. */
  readonly UpdatedAt: number;
}

/** `<account>/<group id>#<revision|end>/<alert name>`: one group's notices share a prefix. */
const noticeKey = (account: string, eventId: string, alertName: string) => `${account}/${eventId}/${alertName}`;
const kept = (services: Pick<Services, "clock" | "linkClock">) => ({ expiresAt: retentionStart(services) + DELIVERY_RETENTION_MS });

/** Where a channel sends, as the API shows an alert: a Slack webhook's path and other secrets hidden. */
export function targetOf(alert: Alert): { channel: string; target: string } {
  const channel = channelOf(redactAlert(alert).Action);
  switch (channel.kind) {
    case "sns":
      return { channel: "SNS", target: channel.topicArn };
    case "lambda":
      return { channel: "LAMBDA", target: channel.functionArn };
    case "slack":
      return { channel: "SLACK", target: channel.webhookUrl };
    case "webhook":
      return { channel: "WEBHOOK", target: channel.url };
    case "email":
      return { channel: "EMAIL", target: channel.to.join(", ") };
  }
}

const OUTCOMES: Record<AlertVerdict["outcome"], NoticeOutcome> = { unmatched: "UNMATCHED", silenced: "SILENCED", unchanged: "UNCHANGED", enqueued: "ENQUEUED" };

/**
 * Keeps the verdicts of one routed event. The first routing of an event is what happened:
 * a re-delivered event (which routing answers "unchanged") does not overwrite it, nor does
 * a verdict overwrite what delivery already recorded of its message.
 */
export async function recordVerdicts(services: Services, event: AnomalyGroupEvent, alerts: readonly Alert[], verdicts: readonly AlertVerdict[]): Promise<void> {
  const eventId = eventIdOf(event);
  const writes: RecordWrite<Notice>[] = [];
  for (const v of verdicts) {
    const alert = alerts.find((a) => a.AlertName === v.alert);
    if (!alert) continue;
    const notice: Notice = {
      AnomalyDetectorArn: event.anomalyDetectorArn,
      AnomalyGroupId: event.anomalyGroup.AnomalyGroupId,
      ...(event.type === "AnomalyGroupEnded" ? {} : { Revision: event.revision }),
      Ended: event.type === "AnomalyGroupEnded",
      IntervalStart: event.intervalStart,
      GroupScore: event.anomalyGroup.AnomalyGroupScore,
      AlertArn: alert.AlertArn,
      AlertName: alert.AlertName,
      Outcome: OUTCOMES[v.outcome],
      ...(v.outcome === "silenced" ? { SilenceId: v.silenceId, SilenceReason: v.reason } : {}),
      ...(v.outcome === "enqueued" ? { NotifyReason: v.reason, DeliveryId: v.deliveryId, Status: "PENDING" as const, ...targetFields(alert) } : {}),
      UpdatedAt: services.clock(),
    };
    writes.push({ table: "notices", id: noticeKey(arnAccount(alert.AlertArn), eventId, alert.AlertName), value: notice, ifAbsent: true });
  }
  if (writes.length) await services.records.putMany(writes);
}

/** Per alert read (alerts are not changed once read): every notice of a batch names the same target. */
const targets = new WeakMap<Alert, { readonly Channel: string; readonly Target: string }>();
const targetFields = (alert: Alert) => {
  let fields = targets.get(alert);
  if (!fields) {
    const { channel, target } = targetOf(alert);
    targets.set(alert, (fields = { Channel: channel, Target: target }));
  }
  return fields;
};

/** Records what became of a delivery (sent or parked), from the delivery itself when routing has not yet recorded it. */
export async function recordOutcome(services: Services, delivery: Delivery, outcome: DeliveryOutcome, alert: Alert | undefined): Promise<void> {
  // Already sent, or another run holds it (it stays parked for that run or the next replay): nothing new.
  if (outcome.kind === "duplicate" || outcome.kind === "in-progress") return;
  const m = delivery.message;
  const key = noticeKey(arnAccount(delivery.alertArn), m.eventId, m.alert.name);
  const found = await services.records.get<Notice>("notices", key);
  const revision = Number(m.eventId.split("#")[1]);
  const base: Notice = found ?? {
    AnomalyDetectorArn: m.detector.arn,
    AnomalyGroupId: m.anomalyGroupId,
    ...(Number.isInteger(revision) ? { Revision: revision } : {}),
    Ended: m.ended,
    IntervalStart: m.at,
    GroupScore: m.score,
    AlertArn: m.alert.arn,
    AlertName: m.alert.name,
    Outcome: "ENQUEUED",
    NotifyReason: m.reason,
    DeliveryId: m.deliveryId,
    UpdatedAt: 0,
  };
  const { LastError: _, ...rest } = base;
  const next: Notice = {
    ...rest,
    ...(alert ? targetFields(alert) : {}),
    Status: outcome.kind === "sent" ? "SENT" : "PARKED",
    Attempts: (found?.Attempts ?? 0) + outcome.attempts,
    ...(outcome.kind === "parked" ? { LastError: outcome.detail } : {}),
    UpdatedAt: services.clock(),
  };
  await services.records.put("notices", key, next, kept(services));
}

export interface DeliveryFilter {
  readonly AnomalyDetectorArn?: string | undefined;
  readonly AnomalyGroupId?: string | undefined;
  readonly AlertArn?: string | undefined;
  readonly Status?: DeliveryStatus | undefined;
}

/** The scope's notices: every verdict when `all`, else only those that sent a message. Newest first. */
export async function listNotices(services: Services, scope: Scope, filter: DeliveryFilter, all = false): Promise<Notice[]> {
  if (filter.AnomalyDetectorArn) await catalogOf(services, scope).getDetector(filter.AnomalyDetectorArn);
  const prefix = `${scope.accountId}/${filter.AnomalyGroupId ? `${filter.AnomalyGroupId}#` : ""}`;
  const notices = await services.records.list<Notice>("notices", prefix);
  return notices
    .filter(
      (n) =>
        (all || n.DeliveryId !== undefined) &&
        (!filter.AnomalyDetectorArn || n.AnomalyDetectorArn === filter.AnomalyDetectorArn) &&
        (!filter.AlertArn || n.AlertArn === filter.AlertArn) &&
        (!filter.Status || n.Status === filter.Status),
    )
    .sort((a, b) => b.IntervalStart - a.IntervalStart || b.UpdatedAt - a.UpdatedAt || a.AlertName.localeCompare(b.AlertName));
}

/** ListDeliveries: the messages alerting sent for the scope's alerts, and what became of each. */
export const listDeliveries = (services: Services, scope: Scope, filter: DeliveryFilter): Promise<Notice[]> => listNotices(services, scope, filter);

/**
 * Sends parked deliveries again: the scope's only (all of them, or those named), or every
 * one for the operator's `vigil replay` (no scope). The dead letters are read for the
 * scope's account alone. Those sent leave them; the counts are of the deliveries this call
 * could touch, never of another tenant's.
 */
export async function replayParkedDeliveries(services: Services, scope: Scope | undefined, signal: AbortSignal, deliveryIds?: readonly string[], onStillParked?: (delivery: ParkedDelivery["delivery"], why: string) => void): Promise<{ retried: number; remaining: number }> {
  const deps = deliverDepsOf(services);
  const wanted = deliveryIds ? new Set(deliveryIds) : undefined;
  // The dead letters' own counts: one sent whose parked record could not be removed is still parked.
  return services.deadLetters.drain(
    async (parked: ParkedDelivery) => {
      // The dead letters hand over the scope's account's only; checked again here, as every read of a tenant's records is.
      if (scope && arnAccount(parked.delivery.alertArn) !== scope.accountId) return false;
      if (wanted && !wanted.has(parked.delivery.deliveryId)) return false;
      const alert = await deps.alert(parked.delivery.alertArn);
      const outcome = await deliver(deps, parked.delivery, signal, { replay: true });
      await recordOutcome(services, parked.delivery, outcome, alert);
      services.observer.delivered(parked.delivery.deliveryId, outcome);
      // Why one failed again; one another run is sending is that run's to tell.
      if (outcome.kind === "parked") onStillParked?.(parked.delivery, `${outcome.detail} (${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"})`);
      // Settled when sent (or sent already); one another run holds stays parked for it.
      return outcome.kind === "sent" || outcome.kind === "duplicate";
    },
    { ...(scope ? { account: scope.accountId } : {}), signal, ...(onStillParked ? { onKept: (parked: ParkedDelivery, why: string) => onStillParked(parked.delivery, why) } : {}) },
  );
}
