import { describe, expect, it } from "vitest";
import { nextState, notifyReason, type NotificationState, type NotifyReason } from "../../../shared/alerts/renotify.ts";
import { anomalyGroupEvent, HOUR, T0 } from "../../builders.ts";

const AT = T0 + 22 * HOUR;
const told: NotificationState = { revision: 2, band: "SEVERE", affected: ["marketplace=de", "platform=pc_web"], notifiedAt: AT, ended: false };

describe("notifyReason", () => {
  const cases: [string, NotificationState | undefined, Parameters<typeof anomalyGroupEvent>[0], NotifyReason][] = [
    ["a group never told of", undefined, { revision: 1 }, "first"],
    ["a group that first met the threshold at a later revision", undefined, { revision: 4 }, "first"],
    ["the same revision again (re-delivered event)", told, { revision: 2, score: 99, intervalStart: AT + 9 * HOUR }, "none"],
    ["an older revision", told, { revision: 1 }, "none"],
    ["a higher severity band", told, { revision: 3, score: 96, affected: told.affected as string[], intervalStart: AT + HOUR }, "severityChanged"],
    ["a lower band", told, { revision: 3, score: 72, affected: told.affected as string[], intervalStart: AT + HOUR }, "none"],
    ["the same band, a higher score", told, { revision: 3, score: 94, affected: told.affected as string[], intervalStart: AT + HOUR }, "none"],
    ["a new dimension value affected", told, { revision: 3, score: 88, affected: [...told.affected, "marketplace=fr"], intervalStart: AT + HOUR }, "grew"],
    ["fewer dimension values", told, { revision: 3, score: 88, affected: ["marketplace=de"], intervalStart: AT + HOUR }, "none"],
    ["unchanged, the repeat interval not yet over", told, { revision: 5, score: 88, affected: told.affected as string[], intervalStart: AT + 3 * HOUR }, "none"],
    ["unchanged, the repeat interval over", told, { revision: 6, score: 88, affected: told.affected as string[], intervalStart: AT + 4 * HOUR }, "repeatElapsed"],
    ["the group ended", told, { type: "AnomalyGroupEnded", revision: 2 }, "ended"],
    ["the end again", { ...told, ended: true }, { type: "AnomalyGroupEnded", revision: 2 }, "none"],
    ["the end of a group never told of", undefined, { type: "AnomalyGroupEnded", revision: 3 }, "none"],
  ];
  it.each(cases)("%s", (_, previous, event, want) => {
    expect(notifyReason(previous, anomalyGroupEvent(event))).toBe(want);
  });
});

describe("nextState", () => {
  it("remembers a re-run's revision without moving the time last told", () => {
    const event = anomalyGroupEvent({ revision: 3, score: 88, affected: told.affected as string[], intervalStart: AT + HOUR });
    expect(nextState(told, event, "none")).toEqual({ ...told, revision: 3 });
  });

  it("records what was told: band, every value affected so far, the interval, the end", () => {
    const event = anomalyGroupEvent({ revision: 3, score: 96, affected: ["marketplace=fr"], intervalStart: AT + HOUR });
    expect(nextState(told, event, "severityChanged")).toEqual({ revision: 3, band: "CRITICAL", affected: ["marketplace=de", "marketplace=fr", "platform=pc_web"], notifiedAt: AT + HOUR, ended: false });
    expect(nextState(told, anomalyGroupEvent({ type: "AnomalyGroupEnded", revision: 2 }), "ended")?.ended).toBe(true);
  });
});
