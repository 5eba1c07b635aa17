import { describe, expect, it } from "vitest";
import { groupKey } from "../../../shared/app/detect.ts";
import { createDetector, createMetricSet, listGroupSummaries, OPERATOR, type Scope } from "../../../shared/app/index.ts";
import { router } from "../../../shared/api/router.ts";
import { ResourceNotFoundException } from "../../../shared/model/errors.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import { anomalyGroupRecord, HOUR, localAt, metricSetRequest, T0, tempDir } from "../../builders.ts";

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
