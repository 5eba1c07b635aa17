import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { groupKey } from "../../../shared/app/detect.ts";
import { activateDetector, createDetector, createMetricSet, detectDue, OPERATOR, putFeedback, type Services } from "../../../shared/app/index.ts";
import { groupEvent, recentValuesOf } from "../../../shared/detect/group-event.ts";
import { readableOf, readAndAggregate, readInterval } from "../../../shared/detect/read-files.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import { encodeSeriesPoints, keptPoints, seriesHistoryUri } from "../../../shared/detect/series-points.ts";
import { modelFolder, readModel, readShard, type ShardedModel } from "../../../shared/detect/shard-model.ts";
import { isPartition } from "../../../shared/detect/shards.ts";
import { applyVerdict, scoreInterval } from "../../../shared/detect/score-interval.ts";
import { RECENT, SeriesBank } from "../../../shared/engine/bank.ts";
import { advanceGroup, groupingContextOf, noMembers } from "../../../shared/incidents/grouping.ts";
import type { AnomalyGroupEvent } from "../../../shared/model/anomaly-event.ts";
import type { Anomaly, AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import type { WorkerShardRunner } from "../../../shared/runtime/shard-workers.ts";
import { cycle, HOUR, inOldFormat, localAt, metricSetRequest, sqlTime, T0, tempDir, liveFolder } from "../../builders.ts";

/**
 * Sharded detection finds what one unsharded run finds: the same anomalies with the same
 * scores, the same groups, the same events (charts included), the same executions and
 * data quality, and the same state for every series, whichever way the series are split.
 */
const HISTORY_HOURS = 24 * 14;
const LIVE = T0 + HISTORY_HOURS * HOUR;
const LIVE_HOURS = 10;
const PLATFORMS = ["web", "app", "tv"];
/** 120 dimension combinations in the history; 300 more start at live hour 3 (the metric set grows). */
const marketsAt = (t: number) => (t >= LIVE + 3 * HOUR ? 140 : 40);
/** The incident: revenue of the first twelve markets collapses at live hours 5–6; views of m3 jump at hour 8. */
function value(t: number, platform: number, market: number, measure: "views" | "revenue"): number {
  const views = cycle(t, 100 + 37 * market + 11 * platform);
  if (measure === "views") return t === LIVE + 8 * HOUR && market === 3 ? views * 4 : views;
  const revenue = Math.round(views * (25 + (market % 7))) / 100;
  return t >= LIVE + 5 * HOUR && t < LIVE + 7 * HOUR && market < 12 ? Math.round(revenue * 15) / 100 : revenue;
}

function csvAt(from: number, hours: number): string {
  const lines = ["timestamp,platform,marketplace,views,revenue"];
  for (let h = 0; h < hours; h++) {
    const t = from + h * HOUR;
    for (let m = 0; m < marketsAt(t); m++) PLATFORMS.forEach((p, i) => lines.push(`${sqlTime(t)},${p},m${m},${value(t, i, m, "views")},${value(t, i, m, "revenue")}`));
  }
  return lines.join("\n") + "\n";
}


async function writeFiles(rt: Services, files: string): Promise<void> {
  await rt.blobs.put(join(files, "history", "all.csv"), csvAt(T0, HISTORY_HOURS));
  for (let h = 0; h < LIVE_HOURS; h++) await rt.blobs.put(join(files, "live", liveFolder(LIVE + h * HOUR), "part.csv"), csvAt(LIVE + h * HOUR, 1));
}

async function vigil(dir: string, files: string, clock: () => number, options: { shardCapacity: number; shardWorkers?: number }): Promise<{ rt: Services; metricSet: MetricSet }> {
  const rt = localAt(dir, clock, options);
  const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(files, "live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(files, "history")] } } }));
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
  return { rt, metricSet };
}

/** What a run left: every result an operator or listener sees, interval by interval. */
async function outputs(rt: Services, metricSet: MetricSet) {
  const root = metricSetRoot(rt.resultsRoot, metricSet);
  const text = async (path: string) => (await rt.blobs.get(path).then((b) => (b ? new TextDecoder().decode(b) : undefined))) ?? "";
  const intervals = [];
  for (let h = 0; h < LIVE_HOURS; h++) {
    const at = join(root, liveFolder(LIVE + h * HOUR));
    intervals.push({ anomalies: await text(join(at, "anomalies.jsonl")), quality: await text(join(at, "quality.json")), rejects: await text(join(at, "rejects.jsonl")) });
  }
  // Every series' kept point: the last learned intervals of the history, then each live one.
  const kept = [];
  for (let h = -RECENT; h < LIVE_HOURS; h++) kept.push(await rt.blobs.get(seriesHistoryUri(root, LIVE + h * HOUR)).then((b) => (b ? Buffer.from(b).toString("base64") : undefined)));
  const events = (await readFile(join(rt.resultsRoot, "..", "events", "anomaly-groups.jsonl"), "utf8").catch(() => "")).trim().split("\n").filter(Boolean);
  return { intervals, kept, events, feedback: await rt.records.list("feedback"), groups: await rt.records.list("groups"), executions: await rt.records.list("executions"), quality: await rt.records.list("quality") };
}

/** Every series' whole state, by bank key, as one bank of that series alone would save it. */
async function seriesStates(rt: Services, metricSet: MetricSet, model: ShardedModel): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const shard of model.shards) {
    const bank = await readShard(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet), shard.version, shard.id, HOUR);
    bank.keys.forEach((key, i) => out.set(key, Buffer.from(bank.select([i]).serialize()).toString("base64")));
  }
  return out;
}

/** The model as an older engine would have saved it: every snapshot under model/ (head and shards) in a format this engine no longer reads. */
async function outdate(rt: Services, metricSet: MetricSet): Promise<number> {
  const files = await rt.blobs.list(`${modelFolder(metricSetRoot(rt.resultsRoot, metricSet))}/`);
  for (const uri of files) {
    await rt.blobs.put(uri, inOldFormat((await rt.blobs.get(uri))!));
  }
  return files.length;
}

async function runLive(rt: Services, metricSet: MetricSet, setNow: (t: number) => void, feedback: boolean, before?: (h: number) => Promise<void>): Promise<void> {
  for (let h = 1; h <= LIVE_HOURS; h++) {
    await before?.(h);
    setNow(LIVE + h * HOUR);
    await detectDue(rt, LIVE + h * HOUR);
    if (feedback && h === 6) {
      // A person says one series of the incident is not an anomaly: its shard learns it before the next hour.
      const [group] = await rt.records.list<AnomalyGroupRecord>("groups");
      const series = Object.keys(group!.impacts["revenue"]!.series).sort()[0]!;
      await putFeedback(rt, OPERATOR, { AnomalyDetectorArn: metricSet.AnomalyDetectorArn, AnomalyGroupId: group!.AnomalyGroupId, TimeSeriesId: series, IsAnomaly: false });
    }
  }
}

/**
 * The reference: one bank for the whole metric set, history then each interval, grouped
 * and announced as detection did before it had shards (the core's functions alone).
 */
async function unsharded(rt: Services, metricSet: MetricSet, files: string, verdictsAt: (t: number) => Promise<{ measure: string; dimensions: Record<string, string>; z: number; IsAnomaly: boolean }[]>) {
  const bank = new SeriesBank(HOUR);
  const readable = readableOf(metricSet, metricSetRoot(rt.resultsRoot, metricSet));
  const history = await readAndAggregate(rt.blobs, readable, [join(files, "history")]);
  const kept: (string | undefined)[] = [];
  const encoded = (points: ReturnType<typeof keptPoints>) => Buffer.from(encodeSeriesPoints(points)).toString("base64");
  for (const t of [...history.intervals.keys()].sort((a, b) => a - b)) {
    scoreInterval(bank, metricSet, history.intervals.get(t), t, { learnOnly: true });
    if (t >= LIVE - RECENT * HOUR) kept.push(encoded(keptPoints(bank, metricSet, history.intervals.get(t), t, "learned")));
  }
  let open: AnomalyGroupRecord | undefined;
  const anomalies: string[] = [];
  const events: AnomalyGroupEvent[] = [];
  const groups = new Map<string, AnomalyGroupRecord>();
  for (let h = 0; h < LIVE_HOURS; h++) {
    const t = LIVE + h * HOUR;
    for (const v of await verdictsAt(t)) applyVerdict(bank, metricSet, v);
    const cells = (await readInterval(rt.blobs, readable, t)).intervals.get(t);
    const members = noMembers();
    const found: Anomaly[] = scoreInterval(bank, metricSet, cells, t, { members: { since: open?.startMs ?? NaN, tally: members } });
    kept.push(encoded(keptPoints(bank, metricSet, cells, t, found)));
    const { changed: group, ended, open: next } = advanceGroup(groupingContextOf(metricSet), open, found, members, t);
    anomalies.push(found.map((a) => JSON.stringify({ ...a, timestamp: new Date(t).toISOString(), anomalyGroupId: group?.AnomalyGroupId }) + "\n").join(""));
    if (group) events.push(groupEvent("AnomalyGroupChanged", group, found, recentValuesOf(bank), t));
    if (ended) events.push(groupEvent("AnomalyGroupEnded", ended, [], recentValuesOf(bank), t));
    if (group) groups.set(group.AnomalyGroupId, group);
    open = next;
  }
  const states = new Map<string, string>();
  bank.keys.forEach((key, i) => states.set(key, Buffer.from(bank.select([i]).serialize()).toString("base64")));
  return { anomalies, kept, events: events.map((e) => JSON.stringify(e)), groups: [...groups.values()], states };
}

/** The same files detected twice: in one shard, and in shards of at most `many.shardCapacity` time series. */
async function sideBySide(many: { shardCapacity: number; shardWorkers: number }) {
  const dir = await tempDir();
  let now = LIVE;
  const clock = () => now;
  const files = join(dir, "files");
  const one = await vigil(join(dir, "one"), files, clock, { shardCapacity: 1_000_000 });
  const sharded = await vigil(join(dir, "many"), files, clock, many);
  await writeFiles(one.rt, files);
  return { one, many: sharded, files, setNow: (t: number) => void (now = t) };
}

describe("sharded detection", () => {
  it("finds what one unsharded run finds, on worker threads, while the metric set grows and its shards split", async () => {
    const { one, many, files, setNow } = await sideBySide({ shardCapacity: 24, shardWorkers: 2 });
    await runLive(one.rt, one.metricSet, setNow, false);
    const learned = await readModel(many.rt.blobs, metricSetRoot(many.rt.resultsRoot, many.metricSet));
    expect(learned).toBeUndefined();
    await runLive(many.rt, many.metricSet, setNow, false);

    const [a, b] = [await outputs(one.rt, one.metricSet), await outputs(many.rt, many.metricSet)];
    expect(b).toEqual(a);
    // Something happened worth comparing: a group over several hours, with anomalies spread over many shards.
    expect(a.groups.length).toBeGreaterThan(0);
    expect(a.events.length).toBeGreaterThanOrEqual(3);
    expect(a.intervals[5]!.anomalies.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(12);

    const oneModel = (await readModel(one.rt.blobs, metricSetRoot(one.rt.resultsRoot, one.metricSet)))!;
    const manyModel = (await readModel(many.rt.blobs, metricSetRoot(many.rt.resultsRoot, many.metricSet)))!;
    expect(oneModel.shards.map((s) => s.id)).toEqual([""]);
    expect(isPartition(manyModel.shards.map((s) => s.id))).toBe(true);
    // 140 markets × 3 platforms × 2 measures = 840 time series, at most 24 a shard.
    expect(manyModel.shards.length).toBeGreaterThanOrEqual(840 / 24);
    expect(Math.max(...manyModel.shards.map((s) => s.series))).toBeLessThanOrEqual(24);
    expect(manyModel.shards.reduce((n, s) => n + s.series, 0)).toBe(840);
    expect({ ...manyModel.head, bank: undefined }).toEqual({ ...oneModel.head, bank: undefined });
    expect(await seriesStates(many.rt, many.metricSet, manyModel)).toEqual(await seriesStates(one.rt, one.metricSet, oneModel));
    expect((many.rt.shards as WorkerShardRunner).peakMemory.heap).toBeGreaterThan(0);

    // And both are what the core alone finds with one bank for everything.
    const reference = await unsharded(one.rt, one.metricSet, files, async () => []);
    expect(b.intervals.map((i) => i.anomalies)).toEqual(reference.anomalies);
    expect(b.kept).toEqual(reference.kept);
    expect(b.events).toEqual(reference.events);
    expect(b.groups).toEqual(reference.groups);
    expect(await seriesStates(many.rt, many.metricSet, manyModel)).toEqual(reference.states);
    await (many.rt.shards as WorkerShardRunner).close();
  });

  it("hands a verdict to the shard that holds its series, as one run learns it", async () => {
    const { one, many, files, setNow } = await sideBySide({ shardCapacity: 40, shardWorkers: 0 });
    await runLive(one.rt, one.metricSet, setNow, true);
    await runLive(many.rt, many.metricSet, setNow, true);
    const [a, b] = [await outputs(one.rt, one.metricSet), await outputs(many.rt, many.metricSet)];
    expect(b).toEqual(a);
    expect(await many.rt.records.list("feedback")).toHaveLength(1);

    const given = (await one.rt.records.list<{ measure: string; dimensions: Record<string, string>; z: number; IsAnomaly: boolean; givenAt: number }>("feedback"))[0]!;
    const reference = await unsharded(one.rt, one.metricSet, files, async (t) => (t === LIVE + 6 * HOUR ? [given] : []));
    expect(b.intervals.map((i) => i.anomalies)).toEqual(reference.anomalies);
    expect(b.events).toEqual(reference.events);
    const model = (await readModel(many.rt.blobs, metricSetRoot(many.rt.resultsRoot, many.metricSet)))!;
    // The watermark is the last run's settled point (FEEDBACK_SETTLE_MS before it), past the verdict.
    expect(model.head.feedbackThrough).toBeGreaterThanOrEqual(given.givenAt);
    expect(await seriesStates(many.rt, many.metricSet, model)).toEqual(reference.states);
    // The verdict changed its series: without it, the states differ.
    const without = await unsharded(one.rt, one.metricSet, files, async () => []);
    expect(without.states).not.toEqual(reference.states);
    expect((await many.rt.records.get<AnomalyGroupRecord>("groups", groupKey(many.metricSet, (await many.rt.records.list<AnomalyGroupRecord>("groups"))[0]!.AnomalyGroupId)))?.revision).toBeGreaterThan(0);
  });

  it("learns a model an older engine saved again from the history, shard by shard, keeping where detection had got to, its open group and its feedback", async () => {
    const { one, many, setNow } = await sideBySide({ shardCapacity: 40, shardWorkers: 2 });
    // The engine changes while the incident's group is open (hours 5–6), once a verdict on it was learned.
    const upgradeAt = (v: typeof one) => async (h: number) => {
      if (h !== 8) return;
      const model = (await readModel(v.rt.blobs, metricSetRoot(v.rt.resultsRoot, v.metricSet)))!;
      expect(model.head.openGroup).toBeDefined();
      expect(model.head.feedbackThrough).toBeGreaterThan(0);
      expect(await outdate(v.rt, v.metricSet)).toBeGreaterThan(v === one ? 1 : 3);
      expect(await readModel(v.rt.blobs, metricSetRoot(v.rt.resultsRoot, v.metricSet))).toMatchObject({ outdated: true, head: { through: model.head.through, openGroup: model.head.openGroup, feedbackThrough: model.head.feedbackThrough } });
    };
    await runLive(one.rt, one.metricSet, setNow, true, upgradeAt(one));
    await runLive(many.rt, many.metricSet, setNow, true, upgradeAt(many));
    const [a, b] = [await outputs(one.rt, one.metricSet), await outputs(many.rt, many.metricSet)];
    expect(b).toEqual(a);
    // Every interval ran once and completed; the model is this engine's again, split as its capacity says.
    expect(a.executions.filter((e) => (e as { Status: string }).Status === "COMPLETED")).toHaveLength(LIVE_HOURS);
    const model = (await readModel(many.rt.blobs, metricSetRoot(many.rt.resultsRoot, many.metricSet)))!;
    expect(model.outdated).toBeUndefined();
    expect(model.head.through).toBe(LIVE + (LIVE_HOURS - 1) * HOUR);
    expect(Math.max(...model.shards.map((s) => s.series))).toBeLessThanOrEqual(40);
    expect(await seriesStates(many.rt, many.metricSet, model)).toEqual(await seriesStates(one.rt, one.metricSet, (await readModel(one.rt.blobs, metricSetRoot(one.rt.resultsRoot, one.metricSet)))!));
    await (many.rt.shards as WorkerShardRunner).close();
  });
});
