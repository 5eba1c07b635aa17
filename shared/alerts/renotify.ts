import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { bandRank, severityOf, type SeverityBand } from "./severity.ts";

/**
 * Whether an alert tells people about a group again (DESIGN: once per real change, not
 * per interval), as Alertmanager decides on its notification log: the first time the group
 * meets the alert, when it climbs a severity band or spreads to new dimension values, after
 * the repeat interval while it lasts, and once when it ends. Time here is the event's
 * interval, so catching up after an outage does not repeat itself.
 */
export type NotifyReason = "first" | "severityChanged" | "grew" | "repeatElapsed" | "ended" | "none";

/** What was last told, per alert and group. */
export interface NotificationState {
  readonly revision: number;
  readonly band: SeverityBand;
  readonly affected: readonly string[];
  /** Interval (epoch ms) of the event last notified. */
  readonly notifiedAt: number;
  readonly ended: boolean;
}

/** Alertmanager's default repeat interval. */
export const DEFAULT_REPEAT_MS = 4 * 3_600_000;

export function notifyReason(previous: NotificationState | undefined, event: AnomalyGroupEvent, repeatMs = DEFAULT_REPEAT_MS): NotifyReason {
  if (event.type === "AnomalyGroupEnded") return previous && !previous.ended ? "ended" : "none";
  if (!previous) return "first";
  if (previous.ended || event.revision <= previous.revision) return "none";
  if (bandRank(severityOf(event.anomalyGroup.AnomalyGroupScore).band) > bandRank(previous.band)) return "severityChanged";
  const known = new Set(previous.affected);
  if (event.summary.affected.some((a) => !known.has(a))) return "grew";
  if (event.intervalStart - previous.notifiedAt >= repeatMs) return "repeatElapsed";
  return "none";
}

/** The state after `event`: notified or not, the revision is remembered so a re-delivery is a no-op. */
export function nextState(previous: NotificationState | undefined, event: AnomalyGroupEvent, reason: NotifyReason): NotificationState | undefined {
  if (reason === "none") return previous && event.type === "AnomalyGroupChanged" && event.revision > previous.revision ? { ...previous, revision: event.revision } : previous;
  return {
    revision: Math.max(event.revision, previous?.revision ?? 0),
    band: severityOf(event.anomalyGroup.AnomalyGroupScore).band,
    affected: [...new Set([...(previous?.affected ?? []), ...event.summary.affected])].sort(),
    notifiedAt: event.intervalStart,
    ended: reason === "ended",
  };
}
