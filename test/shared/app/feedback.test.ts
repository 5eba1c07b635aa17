import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { activateDetector, deactivateDetector, deleteDetector, detectDue, getFeedback, OPERATOR, putFeedback } from "../../../shared/app/index.ts";
import { intervalUri, metricSetRoot, toJsonLines } from "../../../shared/detect/results.ts";
import { bankKey } from "../../../shared/detect/score-interval.ts";
import { readModel, readShardOf } from "../../../shared/detect/shard-model.ts";
import { seriesKeyOf } from "../../../shared/ingest/series-key.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { ResourceNotFoundException, ServiceQuotaExceededException } from "../../../shared/model/errors.ts";
import { GROUP_WINDOW_INTERVALS } from "../../../shared/app/groups.ts";
import { groupKey } from "../../../shared/app/detect.ts";
import { deviationOf, seriesPeakOf } from "../../../shared/incidents/grouping.ts";
import { joinUri } from "../../../shared/model/location.ts";
import { countingReads, csvOf, latch, FIVE_MINUTES, HOUR, leftOut, localAt, longGroupShop, shopOnFiles, type ShopPoint, shopPoints, T0, tempDir, liveFolder, THIRTY_DAYS_AT_PT5M } from "../../builders.ts";
import { DIP, shop } from "./shop.ts";

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;
/** The same dip in de twice: at live hour 3, and 26 hours later (at the same hour a day later, a dip no larger would be a daily routine: engine/routine.ts). */
const dips = (p: ShopPoint): ShopPoint => (p.marketplace === "de" && (p.t === LIVE + 3 * HOUR || p.t === LIVE + 29 * HOUR) ? { ...p, views: Math.round(Number(p.views) * 0.45) } : p);

/** Runs a shop through 30 live hours; after the first dip's group, `verdict` (if any) is given on the de series. */
async function run(verdict: boolean | undefined): Promise<{ first: number; second: number }> {
  const dir = await tempDir();
  let now = LIVE;
  const rt = localAt(dir, () => now);
  await rt.blobs.put(join(dir, "files", "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
  for (let h = 0; h < 30; h++) await rt.blobs.put(join(dir, "files", "live", liveFolder(LIVE + h * HOUR), "p.csv"), csvOf(shopPoints(LIVE + h * HOUR, 1, SERIES, dips)));
  const { detector: d, metricSet: ms } = await shopOnFiles(rt, join(dir, "files"));
  await activateDetector(rt, OPERATOR, d.AnomalyDetectorArn);
  const scores: number[] = [];
  for (let h = 1; h <= 30; h++) {
    now = LIVE + h * HOUR;
    for (const r of await detectDue(rt, now)) if (r.outcome.kind === "processed" && r.outcome.group) scores[r.intervalStart === LIVE + 3 * HOUR ? 0 : 1] = Math.max(scores[r.intervalStart === LIVE + 3 * HOUR ? 0 : 1] ?? 0, r.outcome.group.impacts["views"]?.peakScore ?? 0);
    if (h === 5 && verdict !== undefined) {
      const group = (await rt.records.list<AnomalyGroupRecord>("groups")).find((g) => g.startMs === LIVE + 3 * HOUR)!;
      const seriesId = Object.entries(group.impacts["views"]!.series).find(([, dims]) => dims["marketplace"] === "de")![0];
      const given = await putFeedback(rt, OPERATOR, { AnomalyDetectorArn: ms.AnomalyDetectorArn, AnomalyGroupId: group.AnomalyGroupId, TimeSeriesId: seriesId, IsAnomaly: verdict });
      expect(given).toMatchObject({ IsAnomaly: verdict, measure: "views", givenAt: now });
      expect(given.z).toBeLessThan(-3);
    }
  }
  return { first: scores[0] ?? 0, second: scores[1] ?? 0 };
}

describe("feedback teaches the engine", () => {
  it("scores the same dip lower once a person said it was not an anomaly, and keeps it when they said it was", async () => {
    const [none, notAnomaly, anomaly] = [await run(undefined), await run(false), await run(true)];
    expect(none.first).toBeGreaterThanOrEqual(70);
    expect(none.second).toBeGreaterThanOrEqual(70);
    expect(notAnomaly.first).toBe(none.first);
    expect(notAnomaly.second).toBeLessThan(70);
    expect(anomaly.second).toBeGreaterThanOrEqual(none.second - 1e-9);
  });
});

describe("feedback on a series not in the group", () => {
  it("is refused even when its id is a name every object holds, and detection goes on", async () => {
    const s = await shop(8);
    for (const TimeSeriesId of ["constructor", "toString", "f".repeat(128)])
      await expect(putFeedback(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId, IsAnomaly: false })).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(await getFeedback(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId })).toEqual([]);
    await s.runTo(9);
  });
});

describe("feedback on a series its group's record did not keep", () => {
  it("is taken as on a kept one, the series' measure, dimension values and deviation read from the anomalies detection wrote", async () => {
    const s = await shop(8);
    const key = groupKey(s.metricSet, s.group.AnomalyGroupId);
    const whole = (await s.services.records.get<AnomalyGroupRecord>("groups", key))!;
    await s.services.records.put("groups", key, leftOut(whole, "views", [s.deViews]));
    const given = await putFeedback(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.deViews, IsAnomaly: false });
    expect(given).toMatchObject({ TimeSeriesId: s.deViews, IsAnomaly: false, measure: "views", dimensions: whole.impacts["views"]!.series[s.deViews], z: seriesPeakOf(whole.impacts["views"]!, s.deViews) });
    expect(given.tolerance).toMatchObject({ side: "BELOW", before: 1 });
    // A series with no anomaly in the group is refused, saying why it may not be listed.
    await expect(putFeedback(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: "f".repeat(128), IsAnomaly: false })).rejects.toThrow(
      `Time series ${"f".repeat(128)} is not in anomaly group ${s.group.AnomalyGroupId}: its record keeps the most severe series of each measure, and no anomaly of the series is in the intervals it shows`,
    );
    await s.runTo(9);
  });
});

describe("the feedback's effect", () => {
  it("is the tolerance the engine sets when it learns the verdict at the next interval", async () => {
    const s = await shop(8);
    const given = await putFeedback(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.deViews, IsAnomaly: false });
    expect(given.tolerance).toMatchObject({ side: "BELOW", before: 1 });
    expect(given.tolerance!.after).toBeGreaterThan(1.5);
    expect((await getFeedback(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId }))[0]!.tolerance).toEqual(given.tolerance);
    await s.runTo(9);
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const bank = await readShardOf(s.services.blobs, root, (await readModel(s.services.blobs, root))!, seriesKeyOf(["web", "de"]), HOUR);
    const slot = bank.slot(bankKey("views", seriesKeyOf(["web", "de"])));
    expect(bank.toleranceDown[slot]).toBeCloseTo(given.tolerance!.after, 3);
    // Saying it was an anomaly after all narrows it again.
    const back = await putFeedback(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.deViews, IsAnomaly: true });
    expect(back.tolerance!.before).toBeCloseTo(given.tolerance!.after, 3);
    expect(back.tolerance!.after).toBeLessThan(back.tolerance!.before);
  });

  it("is learned once however often the same verdict is given: a larger deviation still alarms", async () => {
    const s = await shop(8);
    const verdict = { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.deViews, IsAnomaly: false };
    const given = await putFeedback(s.services, s.scope, verdict);
    await s.runTo(9);
    // Given twice more, between intervals (as from an alert's link, clicked again): the verdict kept is the first.
    expect(await putFeedback(s.services, s.scope, verdict)).toEqual(given);
    await s.runTo(10);
    expect(await putFeedback(s.services, s.scope, verdict)).toEqual(given);
    await s.runTo(11);
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const bank = await readShardOf(s.services.blobs, root, (await readModel(s.services.blobs, root))!, seriesKeyOf(["web", "de"]), HOUR);
    expect(bank.toleranceDown[bank.slot(bankKey("views", seriesKeyOf(["web", "de"])))]).toBeCloseTo(given.tolerance!.after, 3);
  });
});

describe("a verdict whose write lands late", () => {
  it("is learned though a later verdict landed first and a run came between: detection learns verdicts FEEDBACK_SETTLE_MS old", async () => {
    const s = await shop(8);
    const de = Object.entries(s.group.impacts["views"]!.series).filter(([, d]) => d["marketplace"] === "de");
    expect(de.length).toBeGreaterThanOrEqual(2);
    const [[first, dims], [second]] = de as [[string, Record<string, string>], [string, Record<string, string>]];
    // The first verdict's write is slow to land (another process, a throttled write): it lands after the second's, and after the next run began.
    const { done: landed, open: land } = latch();
    const records = new Proxy(s.services.records, {
      get: (target, key) =>
        key === "put"
          ? async (...args: Parameters<typeof target.put>) => {
              if (args[0] === "feedback" && (args[2] as { tolerance?: unknown }).tolerance === undefined) await landed;
              return target.put(...args);
            }
          : Reflect.get(target, key, target),
    });
    const verdict = (TimeSeriesId: string) => ({ AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId, IsAnomaly: false });
    s.setNow(LIVE + 9 * HOUR - 2 * 60_000);
    const slow = putFeedback({ ...s.services, records }, s.scope, verdict(first));
    await new Promise((r) => setTimeout(r, 20));
    s.setNow(LIVE + 9 * HOUR - 2 * 60_000 + 1_000);
    await putFeedback(s.services, s.scope, verdict(second));
    await s.runTo(9);
    land();
    const given = await slow;
    await s.runTo(10);
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const key = seriesKeyOf([dims["platform"]!, dims["marketplace"]!]);
    const bank = await readShardOf(s.services.blobs, root, (await readModel(s.services.blobs, root))!, key, HOUR);
    expect(given.tolerance!.after).toBeGreaterThan(1.5);
    expect(bank.toleranceDown[bank.slot(bankKey("views", key))]).toBeCloseTo(given.tolerance!.after, 3);
  });
});

describe("a verdict given as its detector is deleted", () => {
  it("is taken back, and the group answered as gone, when its write lands after the deletion's purge: a detector made again under the name never learns it", async () => {
    const s = await shop(8);
    const records = new Proxy(s.services.records, {
      get: (target, key) =>
        key === "put"
          ? async (...args: Parameters<typeof target.put>) => {
              // The verdict found its group; the whole deletion runs before it is written.
              if (args[0] === "feedback") {
                await deactivateDetector(s.services, s.scope, s.detectorArn);
                await deleteDetector(s.services, s.scope, s.detectorArn);
              }
              return target.put(...args);
            }
          : Reflect.get(target, key, target),
    });
    await expect(putFeedback({ ...s.services, records }, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.deViews, IsAnomaly: false })).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(await s.services.records.list("feedback")).toEqual([]);
  });
});

describe("a verdict given as its detector is deleted, its effect written last", () => {
  it("is taken back when the deletion's purge comes between the verdict's two writes", async () => {
    const s = await shop(8);
    let purged = false;
    const records = new Proxy(s.services.records, {
      get: (target, key) =>
        key === "put"
          ? async (...args: Parameters<typeof target.put>) => {
              // The verdict is written; the whole deletion runs before it is written again with its effect.
              if (!purged && args[0] === "feedback" && (args[2] as { tolerance?: unknown }).tolerance !== undefined) {
                purged = true;
                await deactivateDetector(s.services, s.scope, s.detectorArn);
                await deleteDetector(s.services, s.scope, s.detectorArn);
              }
              return target.put(...args);
            }
          : Reflect.get(target, key, target),
    });
    await expect(putFeedback({ ...s.services, records }, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.deViews, IsAnomaly: false })).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(purged).toBe(true);
    expect(await s.services.records.list("feedback")).toEqual([]);
  });
});

describe("the deviation judged", () => {
  it("is the series' largest in the group, signed, as detection kept it: the largest of the anomalies it wrote", async () => {
    const s = await shop(8);
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const written: number[] = [];
    for (let t = s.group.startMs; t <= s.group.endMs; t += HOUR) {
      const lines = new TextDecoder().decode((await s.services.blobs.get(joinUri(intervalUri(root, t), "anomalies.jsonl")))!).split("\n");
      for (const line of lines.filter(Boolean)) if (JSON.parse(line).timeSeriesId === s.deViews) written.push(deviationOf(JSON.parse(line)));
    }
    expect(written.length).toBe(DIP.length);
    const largest = written.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a));
    expect(largest).toBeLessThan(-3);
    expect(seriesPeakOf(s.group.impacts["views"]!, s.deViews)).toBe(largest);
    const { services, reads } = countingReads(s.services);
    const given = await putFeedback(services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.deViews, IsAnomaly: false });
    expect(given.z).toBe(largest);
    expect(reads.filter((r) => r.endsWith("anomalies.jsonl"))).toEqual([]);
  });

  it("of a 30-day group at PT5M is read from the group, not from its 8,641 intervals", async () => {
    const s = await longGroupShop({ intervals: THIRTY_DAYS_AT_PT5M, seriesPeak: -9 });
    const { services, reads } = countingReads(s.services);
    const given = await putFeedback(services, OPERATOR, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.seriesId, IsAnomaly: false });
    expect(given.z).toBe(-9);
    // The group record and the model (none yet): nothing of the group's intervals.
    expect(reads.filter((r) => r.includes("anomalies.jsonl"))).toEqual([]);
    expect(reads.length).toBeLessThan(5);
  });

  it("of a group stored before detection kept it is the largest in the intervals its chart shows, at most GROUP_WINDOW_INTERVALS of them read", async () => {
    const s = await longGroupShop({ intervals: THIRTY_DAYS_AT_PT5M });
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const anomaly = (t: number, actual: number) => ({ timeSeriesId: s.seriesId, measure: "views", dimensions: s.dimensions, timestamp: new Date(t).toISOString(), actual, expected: 100, lower: 50, upper: 150, score: 90, anomalyGroupId: s.group.AnomalyGroupId });
    // −4 scales in the newest intervals; −9 at the second, which a chart of the group does not show.
    await s.services.blobs.put(joinUri(intervalUri(root, s.group.endMs - 10 * FIVE_MINUTES), "anomalies.jsonl"), toJsonLines([anomaly(s.group.endMs - 10 * FIVE_MINUTES, 60)]));
    await s.services.blobs.put(joinUri(intervalUri(root, s.group.startMs + FIVE_MINUTES), "anomalies.jsonl"), toJsonLines([anomaly(s.group.startMs + FIVE_MINUTES, 10)]));
    const { services, reads } = countingReads(s.services);
    const given = await putFeedback(services, OPERATOR, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.seriesId, IsAnomaly: true });
    expect(given.z).toBeCloseTo(-4, 9);
    const read = reads.filter((r) => r.endsWith("anomalies.jsonl"));
    expect(read).toHaveLength(GROUP_WINDOW_INTERVALS);
    expect(read.at(-1)).toBe(`read ${joinUri(intervalUri(root, s.group.endMs), "anomalies.jsonl")}`);
  });

  it("of a series the record let go of is read from 32 MiB of the group's anomalies at most: past them, refused as not judged, whatever part of them holds", async () => {
    const s = await shop(8);
    const key = groupKey(s.metricSet, s.group.AnomalyGroupId);
    const whole = (await s.services.records.get<AnomalyGroupRecord>("groups", key))!;
    await s.services.records.put("groups", key, leftOut(whole, "views", [s.deViews]));
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    // The newest interval as a wide outage's: a small rebound of the series above expected, then 40 MB of other series' anomalies (lines of 8 KB), then its own dip.
    const newest = joinUri(intervalUri(root, s.group.endMs), "anomalies.jsonl");
    const line = (id: string, dimensions: Readonly<Record<string, string>>, actual: number) => JSON.stringify({ timeSeriesId: id, measure: "views", dimensions, timestamp: new Date(s.group.endMs).toISOString(), actual, expected: 400, lower: 300, upper: 500, score: 71, anomalyGroupId: s.group.AnomalyGroupId });
    const others = Array.from({ length: 5_000 }, (_, i) => line(`other-${i}`, { platform: "x".repeat(8_000), marketplace: String(i) }, 1));
    await s.services.blobs.put(newest, [line(s.deViews, whole.impacts["views"]!.series[s.deViews]!, 520), ...others].join("\n") + "\n" + new TextDecoder().decode((await s.services.blobs.get(newest))!));
    const { services, reads } = countingReads(s.services);
    const refused = await putFeedback(services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, TimeSeriesId: s.deViews, IsAnomaly: false }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(ServiceQuotaExceededException);
    expect(refused).toMatchObject({ quotaCode: "AnomalyBytesPerFeedback", message: `The anomalies of group ${s.group.AnomalyGroupId}'s intervals pass 32 MiB, what one verdict reads: the largest deviation of series ${s.deViews}, which its record does not keep, cannot be judged` });
    // Nothing recorded, and no file read past the one that spent the budget.
    expect(await getFeedback(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId })).toEqual([]);
    expect(reads.filter((r) => r.endsWith("anomalies.jsonl")).at(-1)).toBe(`read ${newest}`);
  });


});
