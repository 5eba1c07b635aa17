import { describe, expect, it } from "vitest";
import { createAlert, createSilence, explainAlerting, OPERATOR } from "../../../shared/app/index.ts";
import { ResourceNotFoundException } from "../../../shared/model/errors.ts";
import { groupKey } from "../../../shared/app/detect.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { HOUR, leftOut } from "../../builders.ts";
import { DIP, LIVE, shop } from "./shop.ts";

const reasons = (e: Awaited<ReturnType<typeof explainAlerting>>) => Object.fromEntries(e.alerts.map((a) => [a.alert.AlertName, a.reason]));

describe("ExplainAlerting: why an alert was, or was not, sent for a series at a time", () => {
  it("names the score, the group, and for each alert its threshold, what routing decided and when it last told", async () => {
    const s = await shop(8, { beforeRun: (services, arn) => createAlert(services, OPERATOR, { AlertName: "revenue-only", AnomalyDetectorArn: arn, AlertSensitivityThreshold: 50, AlertFilters: { MetricList: ["revenue"] }, Action: { SNSConfiguration: { RoleArn: "arn:aws:iam::000000000000:role/r", SnsTopicArn: "arn:aws:sns:us-east-1:000000000000:strict" } } }) });
    const at = (t: number) => explainAlerting(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, series: { TimeSeriesId: s.deViews }, Timestamp: t });

    const onset = await at(DIP[0]! + 10 * 60_000); // any time inside the interval
    expect(onset.timestamp).toBe(DIP[0]);
    expect(onset.point!.score).toBeGreaterThanOrEqual(60);
    expect(onset.group).toMatchObject({ containsSeries: true, record: { AnomalyGroupId: s.group.AnomalyGroupId } });
    expect(reasons(onset)).toEqual({ "to-sns": "NOTIFIED", "to-hook": "NOTIFIED", "revenue-only": "FILTERED_OUT" });
    expect(onset.alerts.find((a) => a.alert.AlertName === "to-hook")!.notice).toMatchObject({ Status: "PARKED", NotifyReason: "first" });
    expect(onset.measure).toBe("views");

    // The hour after the onset: the group went on; what routing did then is what counts.
    const next = await at(DIP[1]!);
    expect(next.alerts.find((a) => a.alert.AlertName === "to-sns")!.lastNotifiedAt).toBe(DIP[0]);
    expect(["NOTIFIED", "ALREADY_NOTIFIED"]).toContain(reasons(next)["to-sns"]);

    // A quiet hour: the series was not anomalous, so no alert could go out.
    const quiet = await at(LIVE + HOUR);
    expect(quiet.point).toMatchObject({ kind: "BELOW_FLOOR" });
    expect(quiet.group).toBeUndefined();
    expect(new Set(Object.values(reasons(quiet)))).toEqual(new Set(["NOT_ANOMALOUS"]));

    // Before detection kept anything: no point, nothing anomalous.
    expect((await at(LIVE - 100 * HOUR)).point).toBeUndefined();
    await expect(explainAlerting(s.services, { tenant: "other", accountId: "123456789012" }, { AnomalyDetectorArn: s.detectorArn, series: { TimeSeriesId: s.deViews }, Timestamp: DIP[0]! })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(at(DIP[0]!).then(() => explainAlerting(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, series: { TimeSeriesId: "f".repeat(128) }, Timestamp: DIP[0]! }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("names the silence that muted the group", async () => {
    const s = await shop(8, {
      beforeRun: async (services, arn) => {
        await createSilence(services, OPERATOR, { AnomalyDetectorArn: arn, StartsAt: new Date(LIVE).toISOString(), EndsAt: new Date(LIVE + 5.5 * HOUR).toISOString(), Reason: "planned outage in de" });
      },
    });
    const onset = await explainAlerting(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, series: { TimeSeriesId: s.deViews }, Timestamp: DIP[0]! });
    expect(reasons(onset)).toEqual({ "to-sns": "SILENCED", "to-hook": "SILENCED" });
    expect(onset.alerts[0]!.notice).toMatchObject({ SilenceReason: "planned outage in de" });
    expect(onset.silences.map((x) => x.Reason)).toEqual(["planned outage in de"]);
    // The silence ended before the group's second hour closed: told then, for the first time.
    const second = await explainAlerting(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, series: { TimeSeriesId: s.deViews }, Timestamp: DIP[1]! });
    expect(second.silences.map((x) => x.Reason)).toEqual(["planned outage in de"]);
    expect(reasons(second)).toEqual({ "to-sns": "NOTIFIED", "to-hook": "NOTIFIED" });
    expect(second.alerts[0]!.notice).toMatchObject({ NotifyReason: "first" });
  });
});

describe("ExplainAlerting on a series its group's record did not keep", () => {
  it("finds the group that took its anomaly when the series is named by its measure and dimension values; by its id alone, not at all", async () => {
    const s = await shop(8);
    const key = groupKey(s.metricSet, s.group.AnomalyGroupId);
    await s.services.records.put("groups", key, leftOut((await s.services.records.get<AnomalyGroupRecord>("groups", key))!, "views", [s.deViews]));
    const named = await explainAlerting(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, series: { MetricName: "views", Dimensions: { platform: "web", marketplace: "de" } }, Timestamp: DIP[0]! });
    expect(named.timeSeriesId).toBe(s.deViews);
    expect(named.group).toMatchObject({ containsSeries: true, record: { AnomalyGroupId: s.group.AnomalyGroupId } });
    expect(reasons(named)).toEqual({ "to-sns": "NOTIFIED", "to-hook": "NOTIFIED" });
    await expect(explainAlerting(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, series: { TimeSeriesId: s.deViews }, Timestamp: DIP[0]! })).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
