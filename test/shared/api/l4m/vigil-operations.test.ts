import { describe, expect, it } from "vitest";
import { router } from "../../../../shared/api/router.ts";
import type { Scope } from "../../../../shared/app/index.ts";
import { HOUR } from "../../../builders.ts";
import { DIP, LIVE, shop, type Shop } from "../../app/shop.ts";
import { MIN_ANOMALY_SCORE } from "../../../../shared/detect/score-interval.ts";

/**
 * Vigil's own operations on the wire (the console's calls): their JSON, their paging and
 * their L4M-style errors. What each decides is tested beside its use case (test/shared/app).
 */
const OTHER: Scope = { tenant: "other", accountId: "123456789012" };
const iso = (ms: number) => new Date(ms).toISOString().replace(".000", "");

function caller(s: Shop) {
  const serve = router(s.services);
  return async (operation: string, body: unknown, scope: Scope = s.scope) => {
    const res = await serve({ method: "POST", path: `/${operation}`, body: JSON.stringify(body), requestId: "r", scope });
    return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> & { __type?: string; Fields?: { Name: string }[] } };
  };
}

describe("Vigil's operations on the wire", () => {
  it("answers the band beside L4M's values, a series' history, and why an alert went out", async () => {
    const s = await shop(8, { badRowAt: 1 });
    const call = caller(s);
    const ts = (await call("ListAnomalyGroupTimeSeries", { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views" })).body as { TimeSeriesList: Record<string, (number | null)[] | string>[] };
    const de = ts.TimeSeriesList.find((x) => x["TimeSeriesId"] === s.deViews)!;
    for (const list of ["MetricValueList", "ExpectedValueList", "LowerBoundList", "UpperBoundList", "AnomalyScoreList", "ScoreKindList"]) expect(de[list]).toHaveLength(26);
    expect((de["ScoreKindList"] as unknown as string[])[0]).toBe("LEARNED");
    expect((de["AnomalyScoreList"] as (number | null)[])[0]).toBeNull(); // learned from history
    expect((de["AnomalyScoreList"] as number[])[24]).toBeGreaterThanOrEqual(60);

    const history = (await call("GetTimeSeriesHistory", { MetricSetArn: s.metricSet.MetricSetArn, TimeSeriesId: s.deViews, StartTime: iso(LIVE), EndTime: iso(LIVE + 7 * HOUR) })).body;
    expect(history).toMatchObject({ MetricName: "views", DimensionList: [{ DimensionName: "platform", DimensionValue: "web" }, { DimensionName: "marketplace", DimensionValue: "de" }] });
    expect(history["TimestampList"]).toEqual(Array.from({ length: 8 }, (_, h) => iso(LIVE + h * HOUR)));
    // Every live interval scored; the dip's two an anomaly with its score, the others below the floor.
    expect(history["ScoreKindList"]).toEqual(Array.from({ length: 8 }, (_, h) => (h === 4 || h === 5 ? "ANOMALY" : "BELOW_FLOOR")));
    expect((history["AnomalyScoreList"] as (number | null)[]).map((x) => x !== null && x >= 60)).toEqual(Array.from({ length: 8 }, (_, h) => h === 4 || h === 5));
    const tooLong = await call("GetTimeSeriesHistory", { MetricSetArn: s.metricSet.MetricSetArn, TimeSeriesId: s.deViews, StartTime: iso(LIVE), EndTime: iso(LIVE + 2000 * HOUR) });
    expect(tooLong).toMatchObject({ status: 400, body: { __type: "ValidationException", Fields: [{ Name: "EndTime" }] } });

    const why = (await call("ExplainAlerting", { AnomalyDetectorArn: s.detectorArn, TimeSeriesId: s.deViews, Timestamp: iso(DIP[0]!) })).body;
    expect(why).toMatchObject({ Timestamp: iso(DIP[0]!), MinAnomalyScore: MIN_ANOMALY_SCORE, AnomalyGroup: { AnomalyGroupId: s.group.AnomalyGroupId, ContainsTimeSeries: true }, RepeatIntervalSeconds: 4 * 3600 });
    expect(why["Alerts"]).toEqual(
      expect.arrayContaining([expect.objectContaining({ AlertName: "to-hook", Reason: "NOTIFIED", DeliveryStatus: "PARKED", NotifyReason: "first", AlertSensitivityThreshold: 50 })]),
    );
    expect((await call("ExplainAlerting", { AnomalyDetectorArn: s.detectorArn, TimeSeriesId: s.deViews, Timestamp: "yesterday" })).body).toMatchObject({ __type: "ValidationException", Fields: [{ Name: "Timestamp" }] });
    expect((await call("ExplainAlerting", { AnomalyDetectorArn: s.detectorArn, TimeSeriesId: s.deViews, Timestamp: iso(DIP[0]!) }, OTHER)).body.__type).toBe("ResourceNotFoundException");
  });

  it("lists deliveries page by page, replays the parked ones, and keeps another tenant out", async () => {
    const s = await shop(8);
    const call = caller(s);
    const first = (await call("ListDeliveries", { MaxResults: 1 })).body as { DeliveryList: Record<string, unknown>[]; NextToken: string };
    expect(first.DeliveryList).toHaveLength(1);
    expect(first.DeliveryList[0]).toEqual(expect.objectContaining({ DeliveryId: expect.any(String), AlertName: expect.any(String), Channel: expect.any(String), Target: expect.any(String), Status: expect.stringMatching(/SENT|PARKED/), Time: expect.any(String) }));
    const second = (await call("ListDeliveries", { MaxResults: 1, NextToken: first.NextToken })).body as { DeliveryList: { DeliveryId: string }[] };
    expect(second.DeliveryList[0]!.DeliveryId).not.toBe(first.DeliveryList[0]!["DeliveryId"]);
    expect((await call("ListDeliveries", { Status: "LOST" })).body).toMatchObject({ __type: "ValidationException", Fields: [{ Name: "Status" }] });
    const parked = ((await call("ListDeliveries", { Status: "PARKED" })).body as { DeliveryList: { DeliveryId: string }[] }).DeliveryList;
    expect(parked.length).toBeGreaterThan(0);
    expect((await call("ReplayDeliveries", {}, OTHER)).body).toEqual({ Retried: 0, Remaining: 0 });
    s.receiver.reset();
    expect((await call("ReplayDeliveries", { DeliveryIds: [parked[0]!.DeliveryId] })).body).toEqual({ Retried: 1, Remaining: parked.length - 1 });
    expect((await call("ReplayDeliveries", { DeliveryIds: [] })).status).toBe(400);
  });

  it("creates, lists, edits and expires silences; answers rejected rows and the back-test report", async () => {
    const s = await shop(6, { badRowAt: 2 });
    const call = caller(s);
    s.setNow(LIVE + 6 * HOUR);
    const created = (await call("CreateSilence", { AnomalyDetectorArn: s.detectorArn, EndsAt: iso(LIVE + 9 * HOUR), Reason: "maintenance" })).body as { Silence: { SilenceId: string } };
    expect(created.Silence).toMatchObject({ AnomalyDetectorArn: s.detectorArn, Reason: "maintenance", StartsAt: expect.any(String) });
    const id = created.Silence.SilenceId;
    expect((await call("UpdateSilence", { SilenceId: id, Reason: "longer maintenance", EndsAt: iso(LIVE + 12 * HOUR) })).body).toMatchObject({ Silence: { SilenceId: id, Reason: "longer maintenance", EndsAt: iso(LIVE + 12 * HOUR) } });
    expect((await call("ListSilences", { AnomalyDetectorArn: s.detectorArn, Active: true })).body).toMatchObject({ Silences: [{ SilenceId: id }] });
    expect((await call("ListSilences", {}, OTHER)).body).toEqual({ Silences: [] });
    expect((await call("ExpireSilence", { SilenceId: id }, OTHER)).body.__type).toBe("ResourceNotFoundException");
    expect((await call("ExpireSilence", { SilenceId: id })).body).toMatchObject({ Silence: { EndsAt: new Date(LIVE + 6 * HOUR).toISOString() } });
    expect((await call("CreateSilence", { EndsAt: iso(LIVE + 9 * HOUR), Reason: "nothing named" })).body).toMatchObject({ __type: "ValidationException" });
    expect((await call("ExpireSilence", { SilenceId: "not-an-id" })).body).toMatchObject({ __type: "ValidationException", Fields: [{ Name: "SilenceId" }] });

    const quality = (await call("GetDataQualityMetrics", { AnomalyDetectorArn: s.detectorArn })).body as { AnomalyDetectorDataQualityMetricList: { StartTimestamp: number; MetricSetDataQualityMetricList: { RejectedRowsByReason: Record<string, number> }[] }[] };
    const bad = quality.AnomalyDetectorDataQualityMetricList.find((q) => q.StartTimestamp * 1000 === LIVE + 2 * HOUR)!;
    expect(Object.values(bad.MetricSetDataQualityMetricList[0]!.RejectedRowsByReason).reduce((a, b) => a + b, 0)).toBe(2);
    const rows = (await call("GetRejectedRows", { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, Timestamp: iso(LIVE + 2 * HOUR), MaxResults: 1 })).body as { RejectedRowList: Record<string, unknown>[]; NextToken?: string };
    expect(rows.RejectedRowList).toEqual([expect.objectContaining({ File: expect.stringContaining("part.csv"), Line: expect.any(Number), Reason: expect.any(String), Detail: expect.any(String), Row: expect.anything() })]);
    expect(rows.NextToken).toBeDefined();
    // The history's read, beside the intervals': its figures, and its rows kept aside (none in this shop's).
    const figures = (q: (typeof quality.AnomalyDetectorDataQualityMetricList)[number]) => Object.fromEntries((q.MetricSetDataQualityMetricList[0] as unknown as { DataQualityMetricList: { MetricType: string; MetricValue: number }[] }).DataQualityMetricList.map((x) => [x.MetricType, x.MetricValue]));
    const history = quality.AnomalyDetectorDataQualityMetricList.map(figures).find((f) => "HISTORY_READ_TIME_STAMP" in f);
    expect(history).toMatchObject({ HISTORY_FILES: 1, HISTORY_INTERVALS_READ: 14 * 24, HISTORY_ROWS_BEFORE_REACH: 0, HISTORY_ROWS_AHEAD: 0, INVALID_ROWS_COMPLIANCE: 0 });
    expect((await call("GetRejectedRows", { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, History: true })).body).toEqual({ RejectedRowList: [] });
    // Another tenant reads neither the history's figures nor its rows kept aside.
    expect((await call("GetDataQualityMetrics", { AnomalyDetectorArn: s.detectorArn }, OTHER)).body.__type).toBe("ResourceNotFoundException");
    expect((await call("GetRejectedRows", { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, History: true }, OTHER)).body.__type).toBe("ResourceNotFoundException");
    for (const neither of [{}, { History: true, Timestamp: iso(LIVE) }]) {
      expect((await call("GetRejectedRows", { AnomalyDetectorArn: s.detectorArn, MetricSetArn: s.metricSet.MetricSetArn, ...neither })).body).toMatchObject({ __type: "ValidationException", Fields: [{ Name: "Timestamp" }] });
    }

    expect((await call("GetBackTestReport", { AnomalyDetectorArn: s.detectorArn })).body).toEqual({ BackTestReportList: [] });
    expect((await call("GetBackTestReport", { AnomalyDetectorArn: s.detectorArn }, OTHER)).body.__type).toBe("ResourceNotFoundException");
  });
});
