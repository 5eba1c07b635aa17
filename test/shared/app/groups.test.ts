import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { groupKey } from "../../../shared/app/detect.ts";
import { CONTEXT_INTERVALS, GROUP_WINDOW_INTERVALS, groupTimeSeries } from "../../../shared/app/groups.ts";
import { seriesHash } from "../../../shared/app/history.ts";
import { createDetector, createMetricSet, listGroupSummaries, OPERATOR, type Scope } from "../../../shared/app/index.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import { encodeSeriesPoints, seriesHistoryUri } from "../../../shared/detect/series-points.ts";
import { router } from "../../../shared/api/router.ts";
import { ResourceNotFoundException } from "../../../shared/model/errors.ts";
import { L4M_QUOTAS } from "../../../shared/model/quotas.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { shop } from "./shop.ts";
import { anomalyGroupRecord, countingReads, csvOf, FIVE_MINUTES, HOUR, leftOut, liveFolder, localAt, longGroupShop, metricSetRequest, T0, tempDir, THIRTY_DAYS_AT_PT5M } from "../../builders.ts";

const uuid = (i: number) => `${String(i).padStart(8, "0")}-aaaa-4bbb-8ccc-0123456789ab`;

/** A shop whose metric set holds 250 groups of scores 0 to 99 (several per score), on two measures. */
async function shopWithGroups() {
  const services = localAt(await tempDir());
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = await createMetricSet(services, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn }));
  const groups = Array.from({ length: 250 }, (_, i) => anomalyGroupRecord({ groupId: uuid(i), score: (i * 37) % 100, startMs: T0 + ((i * 13) % 250) * HOUR, peaks: i % 3 === 0 ? { views: 90, revenue: 10 } : { revenue: 90 } }));
  for (const g of groups) await services.records.put("groups", groupKey(metricSet, g.AnomalyGroupId), g);
  return { services, detector: detector.AnomalyDetectorArn, groups };
}

describe("ListAnomalyGroupSummaries from the ranked index", () => {
  it("pages the groups at or above the threshold, most severe then oldest first, with statistics of them all", async () => {
    const { services, detector, groups } = await shopWithGroups();
    const wanted = groups.filter((g) => g.score >= 40).sort((a, b) => b.score - a.score || a.startMs - b.startMs);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listGroupSummaries(services, OPERATOR, detector, 40, { limit: 17, cursor });
      expect(page.groups.length).toBeLessThanOrEqual(17);
      expect(page.totalCount).toBe(wanted.length);
      expect(page.countsByMeasure).toEqual({ views: wanted.filter((g) => g.impacts["views"]).length, revenue: wanted.filter((g) => !g.impacts["views"]).length });
      expect(page.evaluationStart).toBe(new Date(Math.min(...wanted.map((g) => g.startMs))).toISOString().replace(".000", ""));
      seen.push(...page.groups.map((g) => g.AnomalyGroupId));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(wanted.map((g) => g.AnomalyGroupId));
  });

  it("answers a line in L4M's shape, and another tenant's detector as not found", async () => {
    const { services, detector, groups } = await shopWithGroups();
    const top = (await listGroupSummaries(services, OPERATOR, detector, 99, { limit: 1 })).groups[0]!;
    const g = groups.filter((x) => x.score === 99).sort((a, b) => a.startMs - b.startMs)[0]!;
    expect(top).toEqual({ AnomalyGroupId: g.AnomalyGroupId, StartTime: new Date(g.startMs).toISOString().replace(".000", ""), EndTime: new Date(g.endMs).toISOString().replace(".000", ""), AnomalyGroupScore: 99, PrimaryMetricName: g.impacts["views"] ? "views" : "revenue" });
    const other: Scope = { tenant: "other", accountId: "123456789012" };
    await expect(listGroupSummaries(services, other, detector, 0, { limit: 10 })).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("makes a repeated listing's answer once while nothing changed, answers a change at once, and still refuses another tenant", async () => {
    const { services, detector } = await shopWithGroups();
    const first = await listGroupSummaries(services, OPERATOR, detector, 50, { limit: 5 });
    expect(await listGroupSummaries(services, OPERATOR, detector, 50, { limit: 5 })).toBe(first);
    expect(Object.isFrozen(first.groups[0])).toBe(true);
    const api = router(services);
    const call = async (scope: Scope) => api({ method: "POST", path: "/ListAnomalyGroupSummaries", body: JSON.stringify({ AnomalyDetectorArn: detector, SensitivityThreshold: 50, MaxResults: 5 }), requestId: "r", scope });
    const wire = (page: typeof first) => ({ AnomalyGroupSummaryList: page.groups, AnomalyGroupStatistics: { EvaluationStartDate: page.evaluationStart, TotalCount: page.totalCount, ItemizedMetricStatsList: Object.entries(page.countsByMeasure).map(([MetricName, OccurrenceCount]) => ({ MetricName, OccurrenceCount })) }, NextToken: page.next });
    expect(JSON.parse((await call(OPERATOR)).body)).toEqual(wire(first));
    expect((await call(OPERATOR)).body).toBe((await call(OPERATOR)).body);

    const metricSet = (await services.records.list<MetricSet>("metricSets"))[0]!;
    const newest = anomalyGroupRecord({ groupId: uuid(999), score: 100, startMs: T0, peaks: { revenue: 95 } });
    await services.records.put("groups", groupKey(metricSet, newest.AnomalyGroupId), newest);
    const after = await listGroupSummaries(services, OPERATOR, detector, 50, { limit: 5 });
    expect(after).not.toBe(first);
    expect(after.groups[0]!.AnomalyGroupId).toBe(newest.AnomalyGroupId);
    expect(after.totalCount).toBe(first.totalCount + 1);
    expect(JSON.parse((await call(OPERATOR)).body)).toEqual(wire(after));
    const refused = await call({ tenant: "other", accountId: "123456789012" });
    expect(JSON.parse(refused.body).__type).toBe("ResourceNotFoundException");
  });
});

describe("ListAnomalyGroupTimeSeries of a long group", () => {
  it("covers a 30-day PT5M group's newest intervals, reading at most that many kept files and intervals' files", async () => {
    const s = await longGroupShop({ intervals: THIRTY_DAYS_AT_PT5M });
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const at = (back: number) => s.group.endMs - back * FIVE_MINUTES;
    const point = (key: number, actual: number) => ({ key, actual, expected: 100, lower: 80, upper: 120, kind: "BELOW_FLOOR" as const, score: NaN });
    // Detection kept the series at the 10 newest intervals; 20 back it kept another series only (this one had no value); 30 back, nothing.
    for (let back = 0; back < 10; back++) await s.services.blobs.put(seriesHistoryUri(root, at(back)), encodeSeriesPoints([point(seriesHash(s.metricSet, { measure: "views", dimensions: s.dimensions }), 50 + back)]));
    await s.services.blobs.put(seriesHistoryUri(root, at(20)), encodeSeriesPoints([point(seriesHash(s.metricSet, { measure: "views", dimensions: { platform: "app", marketplace: "fr" } }), 7)]));
    for (const back of [20, 30]) await s.services.blobs.put(join(s.files, "live", liveFolder(at(back)), "part.csv"), csvOf([{ t: at(back), platform: "web", marketplace: "de", views: 42, revenue: 1 }]));

    const { services, reads } = countingReads(s.services);
    const ts = await groupTimeSeries(services, OPERATOR, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views" }, (ids) => ids);
    expect(ts.starts).toEqual(Array.from({ length: GROUP_WINDOW_INTERVALS }, (_, i) => at(GROUP_WINDOW_INTERVALS - 1 - i)));
    const values = ts.series[0]!.values;
    expect(values.slice(-10)).toEqual(Array.from({ length: 10 }, (_, i) => 59 - i));
    expect(values[ts.starts.indexOf(at(30))]).toBe(42);
    expect(values[ts.starts.indexOf(at(20))]).toBeNull();
    // One kept file an interval shown; the files again only of the intervals where detection kept no series.
    expect(reads.filter((r) => r.endsWith("series.bin"))).toHaveLength(GROUP_WINDOW_INTERVALS);
    expect(reads.filter((r) => r.startsWith(`list ${join(s.files, "live")}`))).toHaveLength(GROUP_WINDOW_INTERVALS - 11);
    expect(reads.length).toBeLessThan(3 * GROUP_WINDOW_INTERVALS);

    // L4M's shape: one timestamp per value, every list as long.
    const answer = JSON.parse((await router(s.services)({ method: "POST", path: "/ListAnomalyGroupTimeSeries", body: JSON.stringify({ AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views" }), requestId: "r", scope: OPERATOR })).body);
    expect(answer.TimestampList).toHaveLength(GROUP_WINDOW_INTERVALS);
    expect(answer.TimestampList.at(-1)).toBe(new Date(s.group.endMs).toISOString().replace(".000", ""));
    expect(answer.TimeSeriesList.map((x: { MetricValueList: unknown[]; ExpectedValueList: unknown[] }) => [x.MetricValueList.length, x.ExpectedValueList.length])).toEqual([[GROUP_WINDOW_INTERVALS, GROUP_WINDOW_INTERVALS]]);
  });

  it("covers a group shorter than the window whole, with the intervals before it; one interval longer, its newest", async () => {
    const starts = async (intervals: number) => {
      const s = await longGroupShop({ intervals });
      const ts = await groupTimeSeries(s.services, OPERATOR, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views" }, (ids) => ids);
      return { starts: ts.starts, group: s.group };
    };
    const fits = await starts(GROUP_WINDOW_INTERVALS - CONTEXT_INTERVALS);
    expect(fits.starts).toEqual(Array.from({ length: GROUP_WINDOW_INTERVALS }, (_, i) => fits.group.startMs + (i - CONTEXT_INTERVALS) * FIVE_MINUTES));
    const longer = await starts(GROUP_WINDOW_INTERVALS - CONTEXT_INTERVALS + 1);
    expect(longer.starts).toEqual(Array.from({ length: GROUP_WINDOW_INTERVALS }, (_, i) => longer.group.startMs + (i - CONTEXT_INTERVALS + 1) * FIVE_MINUTES));
    expect(longer.starts.at(-1)).toBe(longer.group.endMs);
  });

  it("reads intervals' files again within one budget an answer shares: past it, the rest show no value", async () => {
    const s = await longGroupShop({ intervals: 20 });
    const at = (i: number) => s.group.startMs + i * FIVE_MINUTES;
    // Each interval of the group holds about 170 KB of rows (nothing kept by detection); the answer may read 1 MiB again.
    const rows = Array.from({ length: 6_000 }, () => ({ t: 0, platform: "web", marketplace: "de", views: 1, revenue: 1 }));
    for (let i = 0; i < 20; i++) await s.services.blobs.put(join(s.files, "live", liveFolder(at(i)), "part.csv"), csvOf(rows.map((r) => ({ ...r, t: at(i) }))));
    const quotas = { ...L4M_QUOTAS, bytesPerInterval: { ...L4M_QUOTAS.bytesPerInterval, PT5M: 1024 * 1024 } };
    const { services, reads } = countingReads({ ...s.services, quotas });
    const ts = await groupTimeSeries(services, OPERATOR, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views" }, (ids) => ids);
    const opened = reads.filter((r) => r.startsWith(`read ${join(s.files, "live")}`));
    // About 170 KB a file: six or so fit in 1 MiB, not twenty.
    expect(opened.length).toBeGreaterThanOrEqual(2);
    expect(opened.length).toBeLessThan(10);
    const values = ts.series[0]!.values.slice(CONTEXT_INTERVALS);
    expect(values.slice(0, opened.length - 1)).toEqual(Array(opened.length - 1).fill(6_000));
    expect(values.slice(opened.length - 1)).toEqual(Array(20 - opened.length + 1).fill(null));
  });
});

describe("a group whose record did not keep all its series", () => {
  it("counts them all and lists those it kept", async () => {
    const s = await shop(8);
    const key = groupKey(s.metricSet, s.group.AnomalyGroupId);
    const whole = (await s.services.records.get<AnomalyGroupRecord>("groups", key))!;
    await s.services.records.put("groups", key, leftOut(whole, "views", [s.deViews]));
    const ref = { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId };
    const call = async (path: string, body: object) => JSON.parse((await router(s.services)({ method: "POST", path, body: JSON.stringify(body), requestId: "r", scope: OPERATOR })).body);
    const views = (await call("/GetAnomalyGroup", ref)).AnomalyGroup.MetricLevelImpactList.find((m: { MetricName: string }) => m.MetricName === "views");
    const all = Object.keys(whole.impacts["views"]!.series);
    expect(all.length).toBeGreaterThan(1);
    expect(views.NumTimeSeries).toBe(all.length);
    const listed = (await call("/ListAnomalyGroupTimeSeries", { ...ref, MetricName: "views" })).TimeSeriesList.map((x: { TimeSeriesId: string }) => x.TimeSeriesId);
    expect(listed.sort()).toEqual(all.filter((id) => id !== s.deViews).sort());
  });

  it("pages on past a series the record let go of between two pages, skipping none it kept throughout", async () => {
    const s = await shop(8);
    const key = groupKey(s.metricSet, s.group.AnomalyGroupId);
    const whole = (await s.services.records.get<AnomalyGroupRecord>("groups", key))!;
    const ids = Object.keys(whole.impacts["views"]!.series).sort();
    expect(ids.length).toBeGreaterThanOrEqual(2);
    const call = async (body: object) => JSON.parse((await router(s.services)({ method: "POST", path: "/ListAnomalyGroupTimeSeries", body: JSON.stringify(body), requestId: "r", scope: OPERATOR })).body);
    const ref = { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views", MaxResults: 1 };
    const first = await call(ref);
    expect(first.TimeSeriesList.map((x: { TimeSeriesId: string }) => x.TimeSeriesId)).toEqual([ids[0]]);
    // The group grows before the next page: a more severe series takes the place of the first one listed, which the record no longer keeps.
    await s.services.records.put("groups", key, leftOut(whole, "views", [ids[0]!]));
    const second = await call({ ...ref, NextToken: first.NextToken });
    expect(second.TimeSeriesList.map((x: { TimeSeriesId: string }) => x.TimeSeriesId)).toEqual([ids[1]]);
  });
});
