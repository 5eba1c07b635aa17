import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listDeliveries, replayDeliveries, replayParkedDeliveries, routeEvent } from "../../../shared/app/index.ts";
import { listNotices } from "../../../shared/app/notices.ts";
import type { AnomalyGroupEvent } from "../../../shared/model/anomaly-event.ts";
import { ResourceNotFoundException } from "../../../shared/model/errors.ts";
import { DIP, shop } from "./shop.ts";

const OTHER = { tenant: "other", accountId: "123456789012" };
const signal = () => new AbortController().signal;

describe("notices: what alerting decided and what became of each message", () => {
  it("lists what was sent where and what is parked, with the target's secrets hidden, newest first", async () => {
    const s = await shop(8);
    const all = await listDeliveries(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn });
    const group = all.filter((d) => d.AnomalyGroupId === s.group.AnomalyGroupId);
    // Both alerts told of the group when it opened; the webhook refused (410), so its message is parked.
    expect(group.filter((d) => d.NotifyReason === "first").map((d) => [d.AlertName, d.Status, d.Channel]).sort()).toEqual([
      ["to-hook", "PARKED", "WEBHOOK"],
      ["to-sns", "SENT", "SNS"],
    ]);
    const parked = group.find((d) => d.AlertName === "to-hook" && d.NotifyReason === "first")!;
    expect(parked).toMatchObject({ Attempts: 1, LastError: expect.stringContaining("410"), Target: `${s.receiver.url}/hook`, DeliveryId: `to-hook/${s.group.AnomalyGroupId}#1` });
    expect(group.find((d) => d.AlertName === "to-sns")!.Target).toBe(s.sns.Action.SNSConfiguration!.SnsTopicArn);
    expect(JSON.stringify(all)).not.toContain("hook-secret");
    expect(all.map((d) => d.IntervalStart)).toEqual([...all.map((d) => d.IntervalStart)].sort((a, b) => b - a));
    expect((await listDeliveries(s.services, s.scope, { Status: "PARKED" })).every((d) => d.AlertName === "to-hook")).toBe(true);
    expect(await listDeliveries(s.services, s.scope, { AnomalyGroupId: s.group.AnomalyGroupId, AlertArn: s.sns.AlertArn })).toEqual(group.filter((d) => d.AlertName === "to-sns"));
    // Another tenant sees none of it, and cannot name the detector.
    expect(await listDeliveries(s.services, OTHER, {})).toEqual([]);
    await expect(listDeliveries(s.services, OTHER, { AnomalyDetectorArn: s.detectorArn })).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("replays the scope's parked deliveries only: another tenant's replay touches none, and a sent one leaves the dead letters", async () => {
    const s = await shop(8);
    const parked = await listDeliveries(s.services, s.scope, { Status: "PARKED" });
    expect(parked.length).toBeGreaterThan(0);
    s.receiver.reset();
    const before = s.receiver.requests.length;
    expect(await replayParkedDeliveries(s.services, OTHER, signal())).toEqual({ retried: 0, remaining: 0 });
    expect(s.receiver.requests.length).toBe(before);
    // One named delivery: sent; the others stay parked.
    const one = parked.at(-1)!.DeliveryId!;
    expect(await replayParkedDeliveries(s.services, s.scope, signal(), [one])).toEqual({ retried: 1, remaining: parked.length - 1 });
    expect(s.receiver.requests.length).toBe(before + 1);
    expect((await listDeliveries(s.services, s.scope, {})).find((d) => d.DeliveryId === one)).toMatchObject({ Status: "SENT", Attempts: 2 });
    expect(await replayDeliveries(s.services, signal())).toEqual({ retried: parked.length - 1, remaining: 0 });
    expect(await listDeliveries(s.services, s.scope, { Status: "PARKED" })).toEqual([]);
  });

  it("keeps each alert's verdict on each event, and a re-delivered event does not overwrite the first routing", async () => {
    const s = await shop(8);
    const notices = await listNotices(s.services, s.scope, { AnomalyGroupId: s.group.AnomalyGroupId }, true);
    const atOnset = notices.filter((n) => n.IntervalStart === DIP[0]);
    expect(atOnset.map((n) => [n.AlertName, n.Outcome]).sort()).toEqual([
      ["to-hook", "ENQUEUED"],
      ["to-sns", "ENQUEUED"],
    ]);
    // The group grew at its second hour; what was told of it again, or held back, is recorded too.
    expect(notices.filter((n) => n.IntervalStart === DIP[1]).length).toBe(2);
    const events = (await readFile(join(s.dir, "vigil", "events", "anomaly-groups.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as AnomalyGroupEvent);
    const first = events.find((e) => e.anomalyGroup.AnomalyGroupId === s.group.AnomalyGroupId && e.revision === 1)!;
    const verdicts = await routeEvent(s.services, first);
    expect(verdicts.map((v) => v.outcome)).toEqual(["unchanged", "unchanged"]);
    expect(await listNotices(s.services, s.scope, { AnomalyGroupId: s.group.AnomalyGroupId }, true)).toEqual(notices);
  });
});
