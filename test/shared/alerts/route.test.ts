import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../../shared/alerts/delivery.ts";
import { buildAlertPipeline } from "../../../shared/alerts/route.ts";
import type { Alert } from "../../../shared/model/alert.ts";
import type { Silence } from "../../../shared/model/silence.ts";
import { SqliteRecordStore } from "../../../shared/store/sqlite-records.ts";
import { anomalyGroupEvent, HOUR, tempDir, T0 } from "../../builders.ts";

const DETECTOR = anomalyGroupEvent().anomalyDetectorArn;

function alert(name: string, threshold: number): Alert {
  return {
    AlertName: name,
    AlertArn: `arn:aws:lookoutmetrics:us-east-1:000000000000:Alert:${name}` as Alert["AlertArn"],
    AnomalyDetectorArn: DETECTOR as Alert["AnomalyDetectorArn"],
    AlertSensitivityThreshold: threshold,
    AlertType: "WEBHOOK",
    AlertStatus: "ACTIVE",
    Action: { WebhookConfiguration: { Url: "https://example.com/hook" } },
    CreationTime: "",
    LastModificationTime: "",
  };
}

async function pipeline(now = T0) {
  const records = SqliteRecordStore.open(join(await tempDir(), "state", "records.db"), { now: () => now });
  const queued: Delivery[] = [];
  const make = (at: number) =>
    buildAlertPipeline({ records, alertsOf: async () => [alert("all", 70), alert("critical", 95)], silencesOf: (account) => records.list<Silence>("silences", `${account}/`), queue: { enqueue: async (ds) => void queued.push(...ds) }, publicUrl: "http://localhost:8087", repeatMs: 4 * HOUR, now: at });
  return { records, queued, route: make(now), at: make };
}

const AFFECTED = ["marketplace=de", "platform=pc_web"];
const at = (h: number) => T0 + h * HOUR;

describe("alert routing over a group's life", () => {
  it("tells each alert once per real change, and once when it ends", async () => {
    const { route } = await pipeline();
    const steps = [
      anomalyGroupEvent({ revision: 1, score: 80, affected: AFFECTED, intervalStart: at(1) }),
      anomalyGroupEvent({ revision: 1, score: 80, affected: AFFECTED, intervalStart: at(1) }), // re-delivered
      anomalyGroupEvent({ revision: 2, score: 84, affected: AFFECTED, intervalStart: at(2) }),
      anomalyGroupEvent({ revision: 3, score: 96, affected: AFFECTED, intervalStart: at(3) }),
      anomalyGroupEvent({ revision: 4, score: 96, affected: [...AFFECTED, "marketplace=fr"], intervalStart: at(4) }),
      anomalyGroupEvent({ revision: 5, score: 96, affected: AFFECTED, intervalStart: at(5) }),
      anomalyGroupEvent({ revision: 6, score: 96, affected: AFFECTED, intervalStart: at(7) }), // 3 h after the last message
      anomalyGroupEvent({ revision: 7, score: 96, affected: AFFECTED, intervalStart: at(9) }), // 5 h after
      anomalyGroupEvent({ type: "AnomalyGroupEnded", revision: 7, score: 96, intervalStart: at(10) }),
      anomalyGroupEvent({ type: "AnomalyGroupEnded", revision: 7, score: 96, intervalStart: at(10) }), // re-delivered
    ];
    const told: string[][] = [];
    for (const e of steps) told.push((await route(e)).map((v) => `${v.alert}:${v.outcome === "enqueued" ? v.reason : v.outcome}`));
    expect(told).toEqual([
      ["critical:unmatched", "all:first"],
      ["critical:unmatched", "all:unchanged"],
      ["critical:unmatched", "all:unchanged"],
      ["all:severityChanged", "critical:first"],
      ["all:grew", "critical:grew"],
      ["all:unchanged", "critical:unchanged"],
      ["all:unchanged", "critical:unchanged"],
      ["all:repeatElapsed", "critical:repeatElapsed"],
      ["all:ended", "critical:ended"],
      ["all:unchanged", "critical:unchanged"],
    ]);
  });

  it("gives every delivery a key of alert, group and revision", async () => {
    const { route, queued } = await pipeline();
    await route(anomalyGroupEvent({ revision: 1, score: 99, intervalStart: at(1) }));
    await route(anomalyGroupEvent({ type: "AnomalyGroupEnded", revision: 1, score: 99, intervalStart: at(2) }));
    const id = anomalyGroupEvent().anomalyGroup.AnomalyGroupId;
    expect(queued.map((d) => d.deliveryId)).toEqual([`all/${id}#1`, `critical/${id}#1`, `all/${id}#end`, `critical/${id}#end`]);
    expect(queued.every((d) => JSON.stringify(d).includes("https://example.com/hook") === false)).toBe(true);
  });

  it("holds messages back while a silence covers the group, and tells of it once the silence is over", async () => {
    const { records, at: routeAt } = await pipeline();
    const silence: Silence = { SilenceId: "s1", MetricName: "revenue", StartsAt: new Date(at(0)).toISOString(), EndsAt: new Date(at(3)).toISOString(), Reason: "load test", CreationTime: "" };
    // Silences are filed under their account: another tenant's silence of the same measure mutes nothing here.
    await records.put("silences", "123456789012/s0", { ...silence, SilenceId: "s0", Reason: "theirs" });
    expect(await routeAt(at(1))(anomalyGroupEvent({ revision: 1, score: 99, intervalStart: at(1), groupId: "0f1c2d3e-aaaa-4bbb-8ccc-0123456789ab" }))).toMatchObject([{ outcome: "enqueued" }, { outcome: "enqueued" }]);
    await records.put("silences", `000000000000/${silence.SilenceId}`, silence);
    const during = await routeAt(at(1))(anomalyGroupEvent({ revision: 1, score: 99, intervalStart: at(1) }));
    expect(during).toEqual([
      { alert: "all", outcome: "silenced", silenceId: "s1", reason: "load test" },
      { alert: "critical", outcome: "silenced", silenceId: "s1", reason: "load test" },
    ]);
    const after = await routeAt(at(4))(anomalyGroupEvent({ revision: 2, score: 99, intervalStart: at(4) }));
    expect(after.map((v) => v.outcome === "enqueued" && v.reason)).toEqual(["first", "first"]);
  });
});
