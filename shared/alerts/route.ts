import type { Alert } from "../model/alert.ts";
import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { arnAccount, resourceKey } from "../model/ids.ts";
import type { Silence } from "../model/silence.ts";
import type { RecordStore } from "../store/records.ts";
import type { Delivery, DeliveryQueue } from "./delivery.ts";
import { alertMessage } from "./message.ts";
import { nextState, notifyReason, type NotificationState, type NotifyReason } from "./renotify.ts";
import { alertMatches } from "./rules.ts";
import { silenceFor } from "./silences.ts";

/**
 * The alert step (DESIGN, flow 3), as Alertmanager's chain of stages: each stage takes the
 * candidates the previous one kept and says what became of the others. One event in;
 * at most one delivery per alert out, each with its idempotency key.
 */
export interface RouteDeps {
  readonly records: RecordStore;
  /** The detector's alerts. */
  readonly alertsOf: (detectorArn: string) => Promise<Alert[]>;
  /** The account's silences. */
  readonly silencesOf: (accountId: string) => Promise<Silence[]>;
  readonly queue: DeliveryQueue;
  /** Base URL of the API for the links in messages, and the key that signs them. */
  readonly publicUrl: string;
  readonly linkSecret?: string | undefined;
  /** When links are made (epoch ms), for their expiry: `now` unless a simulation runs its own clock. */
  readonly linksMadeAt?: number;
  readonly repeatMs: number;
  /** Epoch ms, read once per invocation at the edge. */
  readonly now: number;
  /** Where the notification states it writes start their retention (services.ts' retentionStart): `now` when absent. */
  readonly retentionStart?: number;
}

export type AlertVerdict =
  | { readonly alert: string; readonly outcome: "unmatched" }
  | { readonly alert: string; readonly outcome: "silenced"; readonly silenceId: string; readonly reason: string }
  | { readonly alert: string; readonly outcome: "unchanged" }
  | { readonly alert: string; readonly outcome: "enqueued"; readonly deliveryId: string; readonly reason: Exclude<NotifyReason, "none"> };

interface Candidate {
  readonly alert: Alert;
  previous?: NotificationState | undefined;
  reason?: NotifyReason;
}

/** `saving`: writes a stage started and the pipeline awaits at its end (with the caller's own record of the verdicts, in the same turn). */
type Stage = (event: AnomalyGroupEvent, candidates: Candidate[], verdicts: AlertVerdict[], saving: Promise<unknown>[]) => Promise<Candidate[]>;

/** Routes one event; `record`, when given, keeps its verdicts, written together with the alerts' new notification state. */
export type AlertPipeline = (event: AnomalyGroupEvent, record?: (verdicts: readonly AlertVerdict[]) => Promise<unknown>) => Promise<AlertVerdict[]>;

const notificationKey = (alert: Alert, event: AnomalyGroupEvent) => `${resourceKey(alert.AlertArn)}/${event.anomalyGroup.AnomalyGroupId}`;
const DAY = 86_400_000;
/** Notification state outlives any group by far; kept a month after the last event. */
const NOTIFICATION_RETENTION_MS = 30 * DAY;

export function buildAlertPipeline(deps: RouteDeps): AlertPipeline {
  const match: Stage = async (event, candidates, verdicts) =>
    candidates.filter((c) => alertMatches(c.alert, event) || void verdicts.push({ alert: c.alert.AlertName, outcome: "unmatched" }));

  // Silences are the detector's account's own.
  const silence: Stage = async (event, candidates, verdicts) => {
    if (candidates.length === 0) return candidates;
    const all = await deps.silencesOf(arnAccount(event.anomalyDetectorArn));
    const muting = silenceFor(all, event, deps.now);
    if (!muting) return candidates;
    for (const c of candidates) verdicts.push({ alert: c.alert.AlertName, outcome: "silenced", silenceId: muting.SilenceId, reason: muting.Reason });
    return [];
  };

  const renotify: Stage = async (event, candidates, verdicts) => {
    await Promise.all(
      candidates.map(async (c) => {
        c.previous = await deps.records.get<NotificationState>("notifications", notificationKey(c.alert, event));
        c.reason = notifyReason(c.previous, event, deps.repeatMs);
      }),
    );
    const unchanged = candidates.filter((c) => c.reason === "none");
    for (const c of unchanged) verdicts.push({ alert: c.alert.AlertName, outcome: "unchanged" });
    await Promise.all(unchanged.map((c) => remember(event, c)));
    return candidates.filter((c) => c.reason !== "none");
  };

  // Enqueued before the state is saved: a crash in between re-enqueues the same delivery ids, which delivery drops.
  const base = deps.linkSecret ? { publicUrl: deps.publicUrl, secret: deps.linkSecret, now: deps.linksMadeAt ?? deps.now } : deps.publicUrl;
  const enqueue: Stage = async (event, candidates, verdicts, saving) => {
    const deliveries: Delivery[] = candidates.map((c) => {
      const message = alertMessage(c.alert, event, c.reason as Exclude<NotifyReason, "none">, base);
      return { deliveryId: message.deliveryId, alertArn: c.alert.AlertArn, message };
    });
    if (deliveries.length) await deps.queue.enqueue(deliveries);
    for (const [i, c] of candidates.entries()) verdicts.push({ alert: c.alert.AlertName, outcome: "enqueued", deliveryId: deliveries[i]!.deliveryId, reason: c.reason as Exclude<NotifyReason, "none"> });
    saving.push(...candidates.map((c) => remember(event, c)));
    return candidates;
  };

  async function remember(event: AnomalyGroupEvent, c: Candidate): Promise<void> {
    const next = nextState(c.previous, event, c.reason ?? "none");
    if (next && next !== c.previous) await deps.records.put("notifications", notificationKey(c.alert, event), next, { expiresAt: (deps.retentionStart ?? deps.now) + NOTIFICATION_RETENTION_MS });
  }

  const stages = [match, silence, renotify, enqueue];
  return async (event, record) => {
    const verdicts: AlertVerdict[] = [];
    const saving: Promise<unknown>[] = [];
    let candidates: Candidate[] = (await deps.alertsOf(event.anomalyDetectorArn)).map((alert) => ({ alert }));
    for (const stage of stages) candidates = await stage(event, candidates, verdicts, saving);
    // Issued together: a store that batches the writes of a turn makes them in one go.
    if (record) saving.push(record(verdicts));
    await Promise.all(saving);
    return verdicts;
  };
}
