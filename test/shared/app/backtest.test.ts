import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { activateDetector, backTestDetector, backTestReports, createDetector, createMetricSet, describeDetector, detectDue, getGroup, listGroupSummaries, OPERATOR, runBackTests } from "../../../shared/app/index.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { ResourceNotFoundException, ValidationException } from "../../../shared/model/errors.ts";
import { csvOf, HOUR, localAt, metricSetRequest, shopPoints, T0, tempDir, type ShopPoint } from "../../builders.ts";

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const SPIKE = T0 + 12 * 24 * HOUR + 5 * HOUR;
const spike = (p: ShopPoint): ShopPoint => (p.marketplace === "fr" && p.t === SPIKE ? { ...p, views: Number(p.views) * 4 } : p);
const folder = (t: number) => `${new Date(t).toISOString().slice(0, 10).replaceAll("-", "")}/${new Date(t).toISOString().slice(11, 16).replace(":", "")}`;

describe("the back-test report, kept apart from live detection", () => {
  it("reports what a configuration would have raised over history, answers its groups while in back-test, and its live ones once active", async () => {
    const dir = await tempDir();
    let now = T0 + 14 * 24 * HOUR;
    const s = localAt(dir, () => now);
    await s.blobs.put(join(dir, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES, spike)));
    for (let h = 0; h < 3; h++) await s.blobs.put(join(dir, "live", folder(now + h * HOUR), "p.csv"), csvOf(shopPoints(now + h * HOUR, 1, SERIES)));
    const d = await createDetector(s, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const ms = await createMetricSet(s, OPERATOR, metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(dir, "history")] } } }));
    // Asked for, then run apart (the service loop's or the detect function's work).
    await backTestDetector(s, OPERATOR, d.AnomalyDetectorArn);
    expect(await runBackTests(s)).toBe(1);

    const [one, ...rest] = await backTestReports(s, OPERATOR, d.AnomalyDetectorArn);
    expect(rest).toEqual([]);
    const { report, groups } = one!;
    expect(report.MetricSetArn).toBe(ms.MetricSetArn);
    // The last 30 % of 14 days is scored; the rest teaches.
    expect(report.intervalsLearned + report.intervalsScored).toBe(14 * 24);
    expect(report.from).toBe(T0 + Math.floor((14 * 24 - 1) * 0.7) * HOUR);
    expect(report.to).toBe(T0 + 14 * 24 * HOUR);
    const found = groups.find((g) => g.StartTime === new Date(SPIKE).toISOString().replace(".000", ""));
    expect(found).toBeDefined();
    expect(report.peaks.find(([t]) => t === SPIKE)![1]).toBeGreaterThanOrEqual(60);
    expect(report.peaks.every(([t]) => t >= report.from && t < report.to)).toBe(true);

    // Nothing joined the live groups; in back-test, the group operations answer the back-test's.
    expect(await s.records.list<AnomalyGroupRecord>("groups")).toEqual([]);
    expect((await listGroupSummaries(s, OPERATOR, d.AnomalyDetectorArn, 0, { limit: 100 })).groups.map((g) => g.AnomalyGroupId).sort()).toEqual(groups.map((g) => g.AnomalyGroupId).sort());
    expect(await getGroup(s, OPERATOR, d.AnomalyDetectorArn, found!.AnomalyGroupId)).toEqual(found);
    // Paged as L4M pages: most severe first, then oldest first.
    const first = await listGroupSummaries(s, OPERATOR, d.AnomalyDetectorArn, 0, { limit: 1 });
    expect(first.totalCount).toBe(groups.length);
    if (groups.length > 1) expect((await listGroupSummaries(s, OPERATOR, d.AnomalyDetectorArn, 0, { limit: 1, cursor: first.next })).groups[0]!.AnomalyGroupScore).toBeLessThanOrEqual(first.groups[0]!.AnomalyGroupScore);

    // Made live: its own groups only (none in three quiet hours), the report still there; no back-test while live.
    await activateDetector(s, OPERATOR, d.AnomalyDetectorArn);
    await expect(backTestDetector(s, OPERATOR, d.AnomalyDetectorArn)).rejects.toBeInstanceOf(ValidationException);
    for (let h = 1; h <= 3; h++) {
      now += HOUR;
      await detectDue(s, now);
    }
    expect((await listGroupSummaries(s, OPERATOR, d.AnomalyDetectorArn, 0, { limit: 100 })).groups).toEqual([]);
    await expect(getGroup(s, OPERATOR, d.AnomalyDetectorArn, found!.AnomalyGroupId)).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await backTestReports(s, OPERATOR, d.AnomalyDetectorArn))[0]!.groups).toEqual(groups);
    await expect(backTestReports(s, { tenant: "other", accountId: "123456789012" }, d.AnomalyDetectorArn)).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("a back-test stopped by a drain", () => {
  it("leaves its detector BACK_TEST_ACTIVE, writes no report, and is run whole by the next start", async () => {
    const dir = await tempDir();
    const s = localAt(dir, () => T0 + 14 * 24 * HOUR);
    await s.blobs.put(join(dir, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES, spike)));
    const d = await createDetector(s, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(s, OPERATOR, metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "history")] } } }));
    await backTestDetector(s, OPERATOR, d.AnomalyDetectorArn);
    const drained = new AbortController();
    drained.abort();
    expect(await runBackTests(s, { signal: drained.signal, then: "wait" })).toBe(1);
    expect((await describeDetector(s, OPERATOR, d.AnomalyDetectorArn)).Status).toBe("BACK_TEST_ACTIVE");
    expect(await backTestReports(s, OPERATOR, d.AnomalyDetectorArn)).toEqual([]);
    expect(await runBackTests(s)).toBe(1);
    expect((await describeDetector(s, OPERATOR, d.AnomalyDetectorArn)).Status).toBe("BACK_TEST_COMPLETE");
    expect((await backTestReports(s, OPERATOR, d.AnomalyDetectorArn))[0]!.report.intervalsLearned).toBeGreaterThan(0);
  });
});
