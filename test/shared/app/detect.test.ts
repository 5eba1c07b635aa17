import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { backtest } from "../../../shared/detect/backtest.ts";
import { detectMetricSet, finishInterval, groupKey, LEASE_MS, MAX_CATCH_UP, outOfWindow, type DueRun } from "../../../shared/app/detect.ts";
import { activateDetector, createDetector, createMetricSet, createSilence, dataQuality, deactivateDetector, describeDetector, detectDue, explainAlerting, detectInterval, executions, isNotKept, OPERATOR, rejectedRows, releaseStaleLeases, updateMetricSet } from "../../../shared/app/index.ts";
import { REJECT_LIMITS } from "../../../shared/ingest/rejects.ts";
import { L4M_QUOTAS } from "../../../shared/model/quotas.ts";
import { readAndAggregate } from "../../../shared/detect/read-files.ts";
import { intervalUri, metricSetRoot, modelUri } from "../../../shared/detect/results.ts";
import { commitModel, emptyModel, LEGACY_VERSION, modelFolder, readModel, readShard } from "../../../shared/detect/shard-model.ts";
import { encodeSnapshot } from "../../../shared/detect/snapshot.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { metricSetKey } from "../../../shared/model/ids.ts";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import { boundedGroup, carriedGroup, GROUP_SERIES_KEPT, holdsMore } from "../../../shared/incidents/bounded.ts";
import { advanceGroup, noMembers } from "../../../shared/incidents/grouping.ts";
import type { ShardedModel } from "../../../shared/detect/shard-model.ts";
import type { ShardResult } from "../../../shared/detect/shard-job.ts";
import { SeriesBank } from "../../../shared/engine/bank.ts";
import { BAND_Z } from "../../../shared/engine/calibration.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../../../shared/model/ids.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import { toAnomalyGroup } from "../../../shared/incidents/contribution.ts";
import { activeShop, anomalyOf, csvOf, HOUR, inOldFormat, liveFolder, localAt, metricSetRequest, readableMetricSet, shopOnFiles, type ShopPoint, shopPoints, sqlTime, T0, tempDir } from "../../builders.ts";

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "web", marketplace: "fr", base: 300 },
  { platform: "app", marketplace: "de", base: 500 },
];
const HISTORY_HOURS = 24 * 14;
const LIVE = T0 + HISTORY_HOURS * HOUR;
/** The incident: revenue of marketplace=de collapses for hours 5–6 of the live data. */
const incident = (p: ShopPoint): ShopPoint => (p.marketplace === "de" && p.t >= LIVE + 5 * HOUR && p.t < LIVE + 7 * HOUR ? { ...p, revenue: Math.round(Number(p.revenue) * 20) / 100 } : p);

async function setUp(liveHours: number, options: Parameters<typeof localAt>[2] = {}) {
  const dir = await tempDir();
  let now = LIVE;
  const rt = localAt(join(dir, "vigil"), () => now, options);
  const files = join(dir, "files");
  await rt.blobs.put(join(files, "history", "all.csv"), csvOf(shopPoints(T0, HISTORY_HOURS, SERIES)));
  for (let h = 0; h < liveHours; h++) {
    const t = LIVE + h * HOUR;
    const day = new Date(t).toISOString().slice(0, 10).replaceAll("-", "");
    const hhmm = new Date(t).toISOString().slice(11, 16).replace(":", "");
    const bad = h === 2 ? `${new Date(t).toISOString().slice(0, 19).replace("T", " ")},web,de,lots,1.0\n` : "";
    await rt.blobs.put(join(files, "live", day, hhmm, "part.csv"), csvOf(shopPoints(t, 1, SERIES, incident)) + bad);
  }
  const { detector, metricSet } = await shopOnFiles(rt, files);
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
  return { rt, metricSet, files, setNow: (t: number) => (now = t) };
}

type Runtime = ReturnType<typeof localAt>;
type ShopMetricSet = Awaited<ReturnType<typeof setUp>>["metricSet"];

/** The metric set's saved model head: made unreadable, the model cannot be read. */
const modelHead = (rt: Runtime, metricSet: ShopMetricSet) => join(modelFolder(metricSetRoot(rt.resultsRoot, metricSet)), "head.bin");

/** The one detector's ARN. */
async function detectorArn(rt: Runtime): Promise<string> {
  const [arn] = (await rt.records.list<{ AnomalyDetectorArn: string }>("detectors")).map((d) => d.AnomalyDetectorArn);
  return arn!;
}

/** Another invocation runs interval LIVE + HOUR, as detectInterval takes it: its lease, claimed at `at`, runs until `until`. Answers the interval's key. */
async function runElsewhere(rt: Runtime, metricSet: ShopMetricSet, until: number, at: number): Promise<string> {
  const key = `${metricSetKey(metricSet.MetricSetArn)}/${LIVE + HOUR}`;
  expect(await rt.records.claim(key, until, at)).toBe(true);
  await rt.records.put("executions", key, { MetricSetArn: metricSet.MetricSetArn, Timestamp: new Date(LIVE + HOUR).toISOString(), Status: "IN_PROGRESS", rowsRead: 0, rowsRejected: 0, seriesScored: 0, anomalies: 0 });
  return key;
}

describe("detection of intervals", () => {
  it("learns the history, detects the incident, names its cause, and keeps bad rows with their reasons", async () => {
    const { rt, metricSet, setNow } = await setUp(10);
    const runs = [];
    for (let h = 1; h <= 10; h++) {
      setNow(LIVE + h * HOUR);
      runs.push(...(await detectDue(rt, LIVE + h * HOUR)));
    }
    expect(runs.map((r) => r.intervalStart)).toEqual(Array.from({ length: 10 }, (_, h) => LIVE + h * HOUR));
    const groups = new Set(runs.flatMap((r) => (r.outcome.kind === "processed" && r.outcome.group ? [r.outcome.group.AnomalyGroupId] : [])));
    expect(groups.size).toBe(1);
    const group = (await rt.records.get<AnomalyGroupRecord>("groups", groupKey(metricSet, [...groups][0]!)))!;
    expect(group.startMs).toBe(LIVE + 5 * HOUR);
    expect(group.endMs).toBe(LIVE + 6 * HOUR);
    expect(Object.keys(group.impacts)).toEqual(["revenue"]);
    expect(group.impacts["revenue"]!.deviation["marketplace"]).toEqual({ de: expect.any(Number) });

    const at = (h: number, file: string) => join(rt.resultsRoot, "000000000000", "shop", "orders", new Date(LIVE + h * HOUR).toISOString().slice(0, 10).replaceAll("-", ""), new Date(LIVE + h * HOUR).toISOString().slice(11, 16).replace(":", ""), file);
    const rejects = new TextDecoder().decode(await rt.blobs.get(at(2, "rejects.jsonl")));
    expect(JSON.parse(rejects.trim())).toMatchObject({ reason: "NON_NUMERIC_MEASURE", partial: true, row: { views: "lots" } });
    const quality = JSON.parse(new TextDecoder().decode(await rt.blobs.get(at(2, "quality.json"))));
    expect(quality).toMatchObject({ rowsRead: 4, rowsAccepted: 4, rowsPartial: 1, rejectsByReason: { NON_NUMERIC_MEASURE: 1 } });
    const anomalies = new TextDecoder().decode(await rt.blobs.get(at(5, "anomalies.jsonl"))).trim().split("\n").map((l) => JSON.parse(l));
    expect(anomalies.map((a) => a.dimensions.marketplace)).toEqual(["de", "de"]);
    expect(anomalies[0]).toMatchObject({ measure: "revenue", direction: "DOWN", anomalyGroupId: group.AnomalyGroupId });
  });

  it("processes an interval once: a re-run changes nothing", async () => {
    const { rt, metricSet } = await setUp(8);
    for (let h = 0; h < 7; h++) await detectInterval(rt, metricSet, LIVE + h * HOUR, LIVE + (h + 1) * HOUR);
    const before = await rt.records.list<AnomalyGroupRecord>("groups");
    expect(await detectInterval(rt, metricSet, LIVE + 6 * HOUR, LIVE + 8 * HOUR)).toEqual({ kind: "already-processed" });
    expect(await detectInterval(rt, metricSet, LIVE + 5 * HOUR, LIVE + 8 * HOUR)).toEqual({ kind: "already-processed" });
    expect(await rt.records.list<AnomalyGroupRecord>("groups")).toEqual(before);
    expect(before).toHaveLength(1);
    expect(before[0]!.anomalyCount).toBe(4);
  });

  it("catches up every missed interval, oldest first, after an outage", async () => {
    const { rt, setNow } = await setUp(12);
    setNow(LIVE + HOUR);
    expect((await detectDue(rt, LIVE + HOUR)).map((r) => r.intervalStart)).toEqual([LIVE]);
    setNow(LIVE + 12 * HOUR); // eleven hours without a run
    const caught = await detectDue(rt, LIVE + 12 * HOUR);
    expect(caught.map((r) => r.intervalStart)).toEqual(Array.from({ length: 11 }, (_, i) => LIVE + (i + 1) * HOUR));
    expect(await detectDue(rt, LIVE + 12 * HOUR)).toEqual([]);
  });

  it("waits for the metric set's Offset before an interval is due", async () => {
    const { rt, metricSet } = await setUp(2);
    const delayed = { ...metricSet, Offset: 1800 };
    await rt.records.put("metricSets", "000000000000/shop/orders", delayed);
    // 30 minutes after the live hour closed its files may still be arriving: the previous hour is the newest due.
    expect((await detectDue(rt, LIVE + HOUR + 1000)).map((r) => r.intervalStart)).toEqual([LIVE - HOUR]);
    expect((await detectDue(rt, LIVE + HOUR + 1800_000)).map((r) => r.intervalStart)).toEqual([LIVE]);
  });

  it("reads an interval's files no further than BytesPerInterval: a GZIP that inflates past it is a reject, and the interval FAILED, not scored", async () => {
    const maxBytes = 64 * 1024;
    const { rt, metricSet, files } = await setUp(3, { quotas: { ...L4M_QUOTAS, bytesPerInterval: { ...L4M_QUOTAS.bytesPerInterval, PT1H: maxBytes } } });
    const t = LIVE + HOUR;
    const stamp = new Date(t).toISOString().slice(0, 19).replace("T", " ");
    const hourFolder = join(files, "live", new Date(t).toISOString().slice(0, 10).replaceAll("-", ""), new Date(t).toISOString().slice(11, 16).replace(":", ""));
    // 4 MB of rows in a few kilobytes: read whole, the interval would hold a series of 100,000 views.
    const bomb = gzipSync(`timestamp,platform,marketplace,views,revenue\n${`${stamp},web,de,1,1\n`.repeat(100_000)}`);
    expect(bomb.length).toBeLessThan(maxBytes / 4);
    await rt.blobs.put(join(hourFolder, "bomb.csv.gz"), bomb);
    await detectInterval(rt, metricSet, t, t + HOUR);
    const [execution] = (await executions(rt, OPERATOR, metricSet.AnomalyDetectorArn)).filter((e) => e.Timestamp === new Date(t).toISOString());
    expect(execution).toMatchObject({ Status: "FAILED", FailureReason: expect.stringContaining(`ServiceQuotaExceeded BytesPerInterval: the interval's files hold more than ${maxBytes} bytes`) });
    const at = intervalUri(metricSetRoot(rt.resultsRoot, metricSet), t);
    const rejects = new TextDecoder().decode(await rt.blobs.get(join(at, "rejects.jsonl"))).trim().split("\n").map((l) => JSON.parse(l));
    expect(rejects).toContainEqual(expect.objectContaining({ file: join(hourFolder, "bomb.csv.gz"), line: 0, detail: expect.stringContaining(`the files read at once may hold ${maxBytes} bytes in all`) }));
    const quality = JSON.parse(new TextDecoder().decode(await rt.blobs.get(join(at, "quality.json"))));
    expect(quality.rowsRead).toBeLessThan(maxBytes / 20);
    expect(new TextDecoder().decode(await rt.blobs.get(join(at, "anomalies.jsonl")))).toBe("");
    // Another interval within the quota is read and scored as ever.
    await detectInterval(rt, metricSet, t + HOUR, t + 2 * HOUR);
    const [next] = (await executions(rt, OPERATOR, metricSet.AnomalyDetectorArn)).filter((e) => e.Timestamp === new Date(t + HOUR).toISOString());
    expect(next).toMatchObject({ Status: "COMPLETED" });
  });

  it("refuses a history past BytesPerHistory (a GZIP that inflates past it): the activation FAILED with the quota, no spill left; the same history learned under a larger quota", async () => {
    const history = 256 * 1024;
    const quotas = { ...L4M_QUOTAS, bytesPerHistory: { ...L4M_QUOTAS.bytesPerHistory, PT1H: history } };
    const { rt, metricSet, files } = await setUp(2, { quotas });
    // 4 MB of rows of one history hour in a few kilobytes.
    const bomb = gzipSync(`timestamp,platform,marketplace,views,revenue\n${`${sqlTime(T0 + HOUR)},web,de,1,1\n`.repeat(100_000)}`);
    expect(bomb.length).toBeLessThan(history / 16);
    await rt.blobs.put(join(files, "history", "bomb.csv.gz"), bomb);
    expect(await detectDue(rt, LIVE + HOUR)).toEqual([]);
    const arn = await detectorArn(rt);
    expect(await describeDetector(rt, OPERATOR, arn)).toMatchObject({ Status: "FAILED", FailureType: "ACTIVATION_FAILURE", FailureReason: `ServiceQuotaExceeded BytesPerHistory: the history of ${metricSet.MetricSetName} holds more than ${history} bytes as read (inflated, 16384 more a file), the quota; it was not learned` });
    expect(await rt.blobs.list(`${join(metricSetRoot(rt.resultsRoot, metricSet), "runs")}/`)).toEqual([]);
    expect(await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet))).toBeUndefined();

    const roomy = localAt(join(await tempDir(), "vigil"), () => LIVE + HOUR, { quotas: { ...quotas, bytesPerHistory: { ...quotas.bytesPerHistory, PT1H: 16 * history } } });
    await roomy.blobs.put(join(files, "history", "bomb.csv.gz"), bomb);
    const again = await shopOnFiles(roomy, files);
    await activateDetector(roomy, OPERATOR, again.detector.AnomalyDetectorArn);
    expect((await detectDue(roomy, LIVE + HOUR)).map((r) => r.outcome.kind)).toEqual(["processed"]);
    expect((await describeDetector(roomy, OPERATOR, again.detector.AnomalyDetectorArn)).Status).toBe("ACTIVE");
  });

  it("refuses a history of more than twice TimeSeriesPerMetricSet's series, as soon as it holds them: the activation FAILED with the quota", async () => {
    const quotas = { ...L4M_QUOTAS, seriesPerMetricSet: { ...L4M_QUOTAS.seriesPerMetricSet, PT1H: 10 } };
    const { rt, metricSet, files } = await setUp(2, { quotas });
    // The three shops' two measures are 6 series; a history of endless new marketplaces brings 2 more with each row.
    await rt.blobs.put(join(files, "history", "many.csv"), `timestamp,platform,marketplace,views,revenue\n${Array.from({ length: 1000 }, (_, i) => `${sqlTime(T0 + HOUR)},web,m${i},1,1\n`).join("")}`);
    expect(await detectDue(rt, LIVE + HOUR)).toEqual([]);
    expect(await describeDetector(rt, OPERATOR, await detectorArn(rt))).toMatchObject({ Status: "FAILED", FailureType: "ACTIVATION_FAILURE", FailureReason: `ServiceQuotaExceeded TimeSeriesPerMetricSet: the history of ${metricSet.MetricSetName} holds more than 20 time series, twice the quota; it was not learned` });
    expect(await rt.blobs.list(`${join(metricSetRoot(rt.resultsRoot, metricSet), "runs")}/`)).toEqual([]);
  });

  it("refuses a history whose series' dimension values hold more than a sixteenth of BytesPerHistory, as they are held in memory (twice) while it is read: the activation FAILED with the quota", async () => {
    const history = 256 * 1024;
    const quotas = { ...L4M_QUOTAS, bytesPerHistory: { ...L4M_QUOTAS.bytesPerHistory, PT1H: history } };
    const { rt, metricSet, files } = await setUp(2, { quotas });
    // 20 marketplaces of 4,000 characters each: 80 KB of dimension values, well within the history's bytes and series.
    await rt.blobs.put(join(files, "history", "long.csv"), `timestamp,platform,marketplace,views,revenue\n${Array.from({ length: 20 }, (_, i) => `${sqlTime(T0 + HOUR)},web,${String(i).padEnd(4000, "x")},1,1\n`).join("")}`);
    expect(await detectDue(rt, LIVE + HOUR)).toEqual([]);
    expect(await describeDetector(rt, OPERATOR, await detectorArn(rt))).toMatchObject({ Status: "FAILED", FailureType: "ACTIVATION_FAILURE", FailureReason: `ServiceQuotaExceeded BytesPerHistory: the history of ${metricSet.MetricSetName} holds more than ${history / 16} characters of dimension values, a sixteenth of the quota; it was not learned` });
    expect(await rt.blobs.list(`${join(metricSetRoot(rt.resultsRoot, metricSet), "runs")}/`)).toEqual([]);
  });

  it("leaves no spill behind when learning the history fails after it was spilled (a shard that cannot read it): the activation FAILED, its lease given back", async () => {
    const { rt, metricSet } = await setUp(2);
    // The spill's rows cannot be read back: the shard learning them fails.
    const blobs = new Proxy(rt.blobs, {
      get(target, prop, receiver) {
        if (prop === "get") return async (uri: string) => (/\/spill\/.*\.bin$/.test(uri) ? Promise.reject(new Error("the disk failed")) : target.get(uri));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    expect(await detectDue({ ...rt, blobs }, LIVE + HOUR)).toEqual([]);
    expect(await describeDetector(rt, OPERATOR, await detectorArn(rt))).toMatchObject({ Status: "FAILED", FailureType: "ACTIVATION_FAILURE", FailureReason: "the disk failed" });
    expect(await rt.blobs.list(`${join(metricSetRoot(rt.resultsRoot, metricSet), "runs")}/`)).toEqual([]);
    expect(await rt.records.get("leases", `${metricSetKey(metricSet.MetricSetArn)}/history`)).toBeUndefined();
  });

  it("activates again, once a refused history is within its quota: the detector that FAILED learns it and detects", async () => {
    const quotas = { ...L4M_QUOTAS, seriesPerMetricSet: { ...L4M_QUOTAS.seriesPerMetricSet, PT1H: 10 } };
    const { rt, metricSet, files } = await setUp(2, { quotas });
    const many = join(files, "history", "many.csv");
    await rt.blobs.put(many, `timestamp,platform,marketplace,views,revenue\n${Array.from({ length: 1000 }, (_, i) => `${sqlTime(T0 + HOUR)},web,m${i},1,1\n`).join("")}`);
    expect(await detectDue(rt, LIVE + HOUR)).toEqual([]);
    const arn = await detectorArn(rt);
    expect((await describeDetector(rt, OPERATOR, arn)).Status).toBe("FAILED");
    await rt.blobs.put(many, "timestamp,platform,marketplace,views,revenue\n");
    await activateDetector(rt, OPERATOR, arn);
    expect((await detectDue(rt, LIVE + HOUR)).map((r) => r.outcome.kind)).toEqual(["processed"]);
    const detector = await describeDetector(rt, OPERATOR, arn);
    expect(detector.Status).toBe("ACTIVE");
    expect(detector.FailureReason).toBeUndefined();
    expect((await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head.through).toBe(LIVE);
  });

  it("fails an activation whose named history gives nothing to learn, with why (a wrong TimestampColumn, no file, rows past the history's reach); corrected, it activates", async () => {
    const { rt, metricSet, files } = await setUp(2);
    const arn = await detectorArn(rt);
    await updateMetricSet(rt, OPERATOR, { MetricSetArn: metricSet.MetricSetArn, TimestampColumn: { ColumnName: "time", ColumnFormat: "yyyy-MM-dd HH:mm:ss" } });
    expect(await detectDue(rt, LIVE + HOUR)).toEqual([]);
    const history = join(files, "history", "all.csv");
    expect(await describeDetector(rt, OPERATOR, arn)).toMatchObject({
      Status: "FAILED",
      FailureType: "ACTIVATION_FAILURE",
      FailureReason: `The history of metric set ${metricSet.MetricSetName} gave nothing to learn: none of its ${HISTORY_HOURS * SERIES.length} rows could be used (the first, line 2 of ${history}: column 'time' is missing)`,
    });
    expect(await rt.blobs.list(`${join(metricSetRoot(rt.resultsRoot, metricSet), "runs")}/`)).toEqual([]);
    expect(await rt.records.get("leases", `${metricSetKey(metricSet.MetricSetArn)}/history`)).toBeUndefined();

    const empty = join(files, "nothing-here");
    await updateMetricSet(rt, OPERATOR, { MetricSetArn: metricSet.MetricSetArn, TimestampColumn: metricSet.TimestampColumn, MetricSource: { S3SourceConfig: { ...metricSet.MetricSource.S3SourceConfig, HistoricalDataPathList: [empty] } } });
    await activateDetector(rt, OPERATOR, arn);
    expect(await detectDue(rt, LIVE + HOUR)).toEqual([]);
    expect((await describeDetector(rt, OPERATOR, arn)).FailureReason).toBe(`The history of metric set ${metricSet.MetricSetName} gave nothing to learn: no file is under its HistoricalDataPathList`);

    // Rows from more than a year before the first live interval: not learned.
    const old = T0 - 400 * 24 * HOUR;
    await rt.blobs.put(join(empty, "old.csv"), csvOf(shopPoints(old, 48, SERIES)));
    await activateDetector(rt, OPERATOR, arn);
    expect(await detectDue(rt, LIVE + HOUR)).toEqual([]);
    expect((await describeDetector(rt, OPERATOR, arn)).FailureReason).toBe(`The history of metric set ${metricSet.MetricSetName} gave nothing to learn: its ${48 * SERIES.length} usable rows are all before ${new Date(LIVE - 365 * 24 * HOUR).toISOString()}, as far back as a history is learned`);

    // Back to the history that was there: learned, and detecting.
    await updateMetricSet(rt, OPERATOR, { MetricSetArn: metricSet.MetricSetArn, MetricSource: metricSet.MetricSource });
    await activateDetector(rt, OPERATOR, arn);
    expect((await detectDue(rt, LIVE + HOUR)).map((r) => r.outcome.kind)).toEqual(["processed"]);
    expect(await describeDetector(rt, OPERATOR, arn)).toMatchObject({ Status: "ACTIVE" });
  });

  it("reports what a learned history held: its rows rejected and partial, kept with their reasons, and those too old to learn, counted", async () => {
    const { rt, metricSet, files } = await setUp(2);
    const history = join(files, "history", "all.csv");
    const rows = csvOf(shopPoints(T0, HISTORY_HOURS, SERIES));
    const stamp = sqlTime(T0 + HOUR);
    // Three rows of the history: one whose time is no time, one with no usable measure, one with one usable measure; and two days of rows too old to learn.
    const bad = [`yesterday,web,de,1,2`, `${stamp},web,de,lots,lots`, `${stamp},app,fr,7,lots`];
    const old = csvOf(shopPoints(LIVE - 400 * 24 * HOUR, 48, SERIES)).trimEnd().split("\n").slice(1);
    // Last, a record that cannot be read (a quote never closed): a row read, and rejected.
    await rt.blobs.put(history, `${rows}${bad.join("\n")}\n${old.join("\n")}\n"unclosed,web,de,1,2\n`);
    expect((await detectDue(rt, LIVE + HOUR)).map((r) => r.outcome.kind)).toEqual(["processed"]);
    expect(await describeDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn)).toMatchObject({ Status: "ACTIVE" });

    const [quality] = await dataQuality(rt, OPERATOR, metricSet.AnomalyDetectorArn);
    const goodRows = HISTORY_HOURS * SERIES.length;
    expect(quality!.history).toMatchObject({ files: 1, rowsRead: goodRows + bad.length + old.length + 1, rowsRejected: 3, rowsPartial: 1, rowsBeforeReach: old.length, rowsAhead: 0, intervalsRead: HISTORY_HOURS, reach: new Date(LIVE - 365 * 24 * HOUR).toISOString() });
    expect(quality!.history!.rejectsByReason).toMatchObject({ INVALID_TIMESTAMP: 1, NON_NUMERIC_MEASURE: 2, MALFORMED_RECORD: 1 });
    const firstBad = goodRows + 2;
    const kept = { AnomalyDetectorArn: metricSet.AnomalyDetectorArn, MetricSetArn: metricSet.MetricSetArn, Timestamp: "history" as const };
    expect(await rejectedRows(rt, OPERATOR, kept)).toEqual([
      expect.objectContaining({ file: history, line: firstBad, reason: "INVALID_TIMESTAMP", partial: false, row: expect.objectContaining({ timestamp: "yesterday" }) }),
      expect.objectContaining({ file: history, line: firstBad + 1, reason: "NON_NUMERIC_MEASURE", partial: false }),
      expect.objectContaining({ file: history, line: firstBad + 2, reason: "NON_NUMERIC_MEASURE", partial: true, detail: "measure 'revenue' = 'lots' is not a number" }),
      expect.objectContaining({ file: history, line: firstBad + 3 + old.length, reason: "MALFORMED_RECORD", partial: false }),
    ]);

    // Its history's paths removed, the metric set has no history's figures or rows to answer; learned again, they are gone.
    const { HistoricalDataPathList: _, ...live } = metricSet.MetricSource.S3SourceConfig!;
    await updateMetricSet(rt, OPERATOR, { MetricSetArn: metricSet.MetricSetArn, MetricSource: { S3SourceConfig: live } });
    expect((await dataQuality(rt, OPERATOR, metricSet.AnomalyDetectorArn))[0]!.history).toBeUndefined();
    expect(await rejectedRows(rt, OPERATOR, kept)).toEqual([]);
  });

  it("keeps nothing of a history's read once its metric set no longer stands (deleted while the history was read)", async () => {
    const { rt, metricSet, files } = await setUp(2);
    const history = join(files, "history");
    await rt.blobs.put(join(history, "all.csv"), `${csvOf(shopPoints(T0, HISTORY_HOURS, SERIES))}yesterday,web,de,1,2\n`);
    // The metric set goes (as a purge removes it) while its history is being read.
    const racing: Runtime = {
      ...rt,
      dataFiles: (grant) => {
        const files = rt.dataFiles(grant);
        return { ...files, list: async (prefix: string) => (prefix.startsWith(history) ? (await rt.records.delete("metricSets", metricSetKey(metricSet.MetricSetArn)), files.list(prefix)) : files.list(prefix)) };
      },
    };
    await detectDue(racing, LIVE + HOUR);
    expect(await rt.records.get("quality", `${metricSetKey(metricSet.MetricSetArn)}/history-read`)).toBeUndefined();
    expect(await rt.blobs.list(`${join(metricSetRoot(rt.resultsRoot, metricSet), "history")}/`)).toEqual([]);
    expect(await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet))).toBeUndefined();
  });

  it("activates a detector whose named history holds only rows still to come: they are detected live, so it learns (LEARNING), not FAILED", async () => {
    const { rt, metricSet, files } = await setUp(2);
    await rt.blobs.put(join(files, "history", "all.csv"), csvOf(shopPoints(LIVE, 2, SERIES)));
    expect((await detectDue(rt, LIVE + HOUR)).map((r) => r.outcome.kind)).toEqual(["processed"]);
    expect(await describeDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn)).toMatchObject({ Status: "LEARNING" });
  });

  it("keeps the first 10,000 rows of an interval full of bad rows and counts the rest, in its rejects and data quality", async () => {
    const { rt, metricSet, files } = await setUp(3);
    const t = LIVE + HOUR;
    const stamp = new Date(t).toISOString().slice(0, 19).replace("T", " ");
    const hourFolder = join(files, "live", new Date(t).toISOString().slice(0, 10).replaceAll("-", ""), new Date(t).toISOString().slice(11, 16).replace(":", ""));
    // 25,000 rows no measure of which is a number: 15,000 past REJECT_LIMITS.rows.
    const bad = 25_000;
    await rt.blobs.put(join(hourFolder, "zz-bad.csv.gz"), gzipSync(`timestamp,platform,marketplace,views,revenue\n${`${stamp},web,de,lots,lots\n`.repeat(bad)}`));
    await detectInterval(rt, metricSet, t, t + HOUR);
    const at = intervalUri(metricSetRoot(rt.resultsRoot, metricSet), t);
    const lines = new TextDecoder().decode(await rt.blobs.get(join(at, "rejects.jsonl"))).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(REJECT_LIMITS.rows + 1);
    expect(lines[0]).toMatchObject({ file: join(hourFolder, "zz-bad.csv.gz"), line: 2, reason: "NON_NUMERIC_MEASURE", row: { views: "lots" } });
    expect(lines.at(-1)).toMatchObject({ file: join(hourFolder, "zz-bad.csv.gz"), reason: "NON_NUMERIC_MEASURE", notKept: bad - REJECT_LIMITS.rows, firstLine: REJECT_LIMITS.rows + 2, lastLine: bad + 1 });
    const quality = JSON.parse(new TextDecoder().decode(await rt.blobs.get(join(at, "quality.json"))));
    expect(quality).toMatchObject({ rowsRead: SERIES.length + bad, rowsAccepted: SERIES.length, rowsRejected: bad, rejectsNotKept: bad - REJECT_LIMITS.rows, rejectsByReason: { NON_NUMERIC_MEASURE: bad } });
    const answered = await rejectedRows(rt, OPERATOR, { AnomalyDetectorArn: metricSet.AnomalyDetectorArn, MetricSetArn: metricSet.MetricSetArn, Timestamp: t });
    expect(answered).toHaveLength(REJECT_LIMITS.rows + 1);
    expect(answered.filter(isNotKept)).toEqual([lines.at(-1)]);
  });

  it("finds the same anomalies interval by interval as a backtest does in one pass", async () => {
    const { rt, metricSet, files } = await setUp(10);
    for (let h = 0; h < 10; h++) await detectInterval(rt, metricSet, LIVE + h * HOUR, LIVE + (h + 1) * HOUR);
    const live: unknown[] = [];
    for (let h = 0; h < 10; h++) {
      const text = new TextDecoder().decode(await rt.blobs.get(join(rt.resultsRoot, "000000000000", "shop", "orders", new Date(LIVE + h * HOUR).toISOString().slice(0, 10).replaceAll("-", ""), new Date(LIVE + h * HOUR).toISOString().slice(11, 16).replace(":", ""), "anomalies.jsonl")));
      live.push(...text.split("\n").filter(Boolean).map((l) => JSON.parse(l)));
    }
    const data = await readAndAggregate(rt.blobs, metricSet, [join(files, "history"), join(files, "live")]);
    const result = backtest(metricSet, data, { from: LIVE });
    expect(result.anomalies.map((a) => ({ ...a, timestamp: new Date(a.timestamp).toISOString() }))).toEqual(live);
  });
});

describe("daily metric sets of a time zone", () => {
  const DAY = 24 * HOUR;
  const date = (d: number) => new Date(T0 + d * DAY).toISOString().slice(0, 10);
  /** Daily orders stamped with their date (no time), a week's rhythm, and a collapse on day 116; history to day 112 (16 weeks), then a folder a date. */
  async function dailyIn(zone: string, Offset = 0) {
    const rt = localAt(join(await tempDir(), "vigil"), () => T0);
    const files = join(await tempDir(), "files");
    const orders = (d: number) => (d === 116 ? 20 : 100 + 15 * (d % 7) + ((d * 7919) % 5));
    const rows = (from: number, to: number) => "day,platform,marketplace,views,revenue\n" + Array.from({ length: to - from }, (_, i) => `${date(from + i)},web,us,${orders(from + i)},10\n`).join("");
    await rt.blobs.put(join(files, "history", "all.csv"), rows(0, 112));
    for (let d = 112; d < 119; d++) await rt.blobs.put(join(files, "live", date(d).replaceAll("-", ""), "part.csv"), rows(d, d + 1));
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "daily", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "P1D" } });
    const metricSet = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetFrequency: "P1D", Timezone: zone, Offset, TimestampColumn: { ColumnName: "day", ColumnFormat: "yyyy-MM-dd" }, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(files, "live/{{yyyyMMdd}}")], HistoricalDataPathList: [join(files, "history")] } } }));
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    return { rt, metricSet, folder: (d: number) => join(files, "live", date(d).replaceAll("-", "")) };
  }

  it.each(["America/New_York", "Asia/Tokyo"])("reads each date's folder and rows in %s, and finds the collapse on its date", async (zone) => {
    const { rt, metricSet } = await dailyIn(zone);
    // 06:00 UTC on day 119: New York's day 118 ended an hour ago, Tokyo's day 119 has not.
    const runs = await detectDue(rt, T0 + 119 * DAY + 6 * HOUR);
    const live = (await executions(rt, OPERATOR, metricSet.AnomalyDetectorArn)).filter((e) => Date.parse(e.Timestamp) >= T0 + 112 * DAY).sort((a, b) => a.Timestamp.localeCompare(b.Timestamp));
    expect(live.map((e) => [e.Timestamp.slice(0, 10), e.Status, e.rowsRead, e.rowsRejected])).toEqual(Array.from({ length: 7 }, (_, i) => [date(112 + i), "COMPLETED", 1, 0]));
    const found = runs.flatMap((r) => (r.outcome.kind === "processed" && r.outcome.execution.anomalies > 0 ? [new Date(r.intervalStart).toISOString().slice(0, 10)] : []));
    expect(found).toEqual([date(116)]);
    // Lags count from the zone's midnight: 04:00 UTC in New York's summer (1 May), 15:00 UTC the day before in Tokyo.
    expect(runs.find((r) => r.intervalStart === T0 + 116 * DAY)?.closedAt).toBe(T0 + 117 * DAY + (zone === "Asia/Tokyo" ? -9 : 4) * HOUR);
  });

  it("wakes for a file landed in a day once the day has ended in its zone, not before", async () => {
    const detected = (runs: readonly DueRun[]) => runs.map((r) => new Date(r.intervalStart).toISOString().slice(0, 10));
    // 01:00 UTC on day 119 is 20:00 on day 118 in New York: the day is not over there.
    const ny = await dailyIn("America/New_York");
    expect(detected(await detectDue(ny.rt, T0 + 119 * DAY + HOUR, { arrived: [join(ny.folder(118), "part.csv")] }))).not.toContain(date(118));
    // 01:00 on day 119 in Tokyo (16:00 UTC on day 118): its day 118 is over, and the file wakes it before its Offset of three hours.
    const tokyo = await dailyIn("Asia/Tokyo", 10_800);
    expect(detected(await detectDue(tokyo.rt, T0 + 118 * DAY + 16 * HOUR, { arrived: [join(tokyo.folder(118), "part.csv")] }))).toContain(date(118));
  });

  it("explains a day's alerting with the silences in force when the day closed in its zone", async () => {
    const { rt, metricSet } = await dailyIn("America/New_York");
    // 20:00 on day 116 to 02:00 on day 117 in New York: over the close of its day 116 (05:00 UTC on day 117), after UTC's.
    await createSilence(rt, OPERATOR, { AnomalyDetectorArn: metricSet.AnomalyDetectorArn, StartsAt: new Date(T0 + 117 * DAY + HOUR).toISOString(), EndsAt: new Date(T0 + 117 * DAY + 7 * HOUR).toISOString(), Reason: "night maintenance" });
    await detectDue(rt, T0 + 119 * DAY + 6 * HOUR);
    const explained = await explainAlerting(rt, OPERATOR, { AnomalyDetectorArn: metricSet.AnomalyDetectorArn, series: { MetricName: "views", Dimensions: { platform: "web", marketplace: "us" } }, Timestamp: T0 + 116 * DAY });
    expect(explained.silences.map((s) => s.Reason)).toEqual(["night maintenance"]);
  });
});

describe("reading any supported format end to end", () => {
  it("reads gzipped JSON Lines with epoch timestamps, and CSV without a header in another zone, to the same series", async () => {
    const dir = await tempDir();
    const blobs = new LocalBlobStore();
    const points = shopPoints(T0, 48, SERIES);
    await blobs.put(join(dir, "a.jsonl.gz"), gzipSync(points.map((p) => JSON.stringify({ ts: p.t / 1000, platform: p.platform, marketplace: p.marketplace, views: p.views, revenue: p.revenue })).join("\n")));
    // Berlin is UTC+1 in January: local 01:00 is 00:00 UTC.
    const local = (t: number) => new Date(t + HOUR).toISOString().slice(0, 19).replace("T", " ");
    await blobs.put(join(dir, "b.csv"), points.map((p) => `${local(p.t)};${p.platform};${p.marketplace};${p.views};${p.revenue}`).join("\n"));
    const json = await readAndAggregate(blobs, readableMetricSet({ TimestampColumn: { ColumnName: "ts", ColumnFormat: "EPOCH_SECONDS" }, MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "a.jsonl.gz")], FileFormatDescriptor: { JsonFormatDescriptor: { FileCompression: "GZIP" } } } } }), [join(dir, "a.jsonl.gz")]);
    const csv = await readAndAggregate(
      blobs,
      readableMetricSet({ Timezone: "Europe/Berlin", TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" }, MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "b.csv")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: false, Delimiter: ";", HeaderList: ["timestamp", "platform", "marketplace", "views", "revenue"] } } } } }),
      [join(dir, "b.csv")],
    );
    expect(json.quality.rowsRejected).toBe(0);
    expect(csv.quality.rowsRejected).toBe(0);
    expect([...json.intervals.keys()]).toEqual([...csv.intervals.keys()]);
    expect(json.intervals.get(T0 + 5 * HOUR)).toEqual(csv.intervals.get(T0 + 5 * HOUR));
    expect(json.intervals.size).toBe(48);
  });

  it("reports a catch-up's intervals PENDING until it reaches them, and stops between intervals when told", async () => {
    const { rt } = await setUp(8);
    await detectDue(rt, LIVE + HOUR); // activation, and the first hour
    const stop = new AbortController();
    const watching = { ...rt, observer: { ...rt.observer, intervalRun: () => stop.abort() } };
    const runs = await detectDue(watching, LIVE + 8 * HOUR, { signal: stop.signal });
    expect(runs.map((r) => r.intervalStart)).toEqual([LIVE + HOUR]);
    const arn = await detectorArn(rt);
    const listed = await executions(rt, OPERATOR, arn);
    expect(listed.filter((e) => Date.parse(e.Timestamp) > LIVE + HOUR).map((e) => e.Status)).toEqual(Array(6).fill("PENDING"));
    expect(listed.find((e) => Date.parse(e.Timestamp) === LIVE + HOUR)?.Status).toBe("COMPLETED");
    await detectDue(rt, LIVE + 8 * HOUR);
    expect((await executions(rt, OPERATOR, arn)).filter((e) => Date.parse(e.Timestamp) >= LIVE).map((e) => e.Status)).toEqual(Array(8).fill("COMPLETED"));
  });
});

describe("an interval that cannot start", () => {
  it("is recorded FAILED with the reason when the model cannot be read, and detected once it can", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(1, 3);
    const head = modelHead(rt, metricSet);
    const saved = (await rt.blobs.get(head))!;
    await rt.blobs.put(head, new TextEncoder().encode("not a model"));
    setNow(LIVE + 2 * HOUR);
    await expect(detectDue(rt, LIVE + 2 * HOUR)).rejects.toThrow();
    const arn = await detectorArn(rt);
    const [failed] = await executions(rt, OPERATOR, arn, LIVE + HOUR);
    expect(failed).toMatchObject({ Status: "FAILED", FailureReason: expect.any(String) });
    expect(failed!.FailureReason!.length).toBeGreaterThan(0);
    // An interval completed before keeps its record.
    await expect(detectInterval(rt, metricSet, LIVE, LIVE + 2 * HOUR)).rejects.toThrow();
    expect((await executions(rt, OPERATOR, arn, LIVE))[0]?.Status).toBe("COMPLETED");
    // A catch-up's later interval loads the model itself: the same is said there.
    await expect(detectInterval(rt, metricSet, LIVE + 2 * HOUR, LIVE + 3 * HOUR)).rejects.toThrow();
    expect((await executions(rt, OPERATOR, arn, LIVE + 2 * HOUR))[0]?.Status).toBe("FAILED");
    await rt.blobs.put(head, saved);
    setNow(LIVE + 3 * HOUR);
    expect((await detectDue(rt, LIVE + 3 * HOUR)).map((r) => [r.intervalStart, r.outcome.kind])).toEqual([
      [LIVE + HOUR, "processed"],
      [LIVE + 2 * HOUR, "processed"],
    ]);
    expect((await executions(rt, OPERATOR, arn)).filter((e) => Date.parse(e.Timestamp) >= LIVE).map((e) => e.Status)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
  });
});

describe("an interval that cannot start, and whose FAILED record cannot be written either", () => {
  it("logs why the record could not be written and still throws the error that stopped the interval", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(1, 3);
    const head = modelHead(rt, metricSet);
    await rt.blobs.put(head, new TextEncoder().encode("not a model"));
    const stopped = await detectInterval(rt, metricSet, LIVE + HOUR, LIVE + 2 * HOUR).catch((e: unknown) => e);
    // The records store refuses every update of an execution (a table down, say).
    const down = new Error("the executions table is down");
    const records = new Proxy(rt.records, { get: (target, key) => (key === "update" ? () => Promise.reject(down) : Reflect.get(target, key, target)) });
    const failed: { what: string; error: unknown; context?: Readonly<Record<string, unknown>> }[] = [];
    const watched = { ...rt, records, observer: { ...rt.observer, failed: (what: string, error: unknown, context?: Readonly<Record<string, unknown>>) => void failed.push({ what, error, context }) } };
    const thrown = await detectInterval(watched, metricSet, LIVE + 2 * HOUR, LIVE + 3 * HOUR).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(SyntaxError);
    expect(String(thrown)).toBe(String(stopped));
    expect(failed).toEqual([{ what: expect.stringMatching(/record/), error: down, context: expect.objectContaining({ metricSetArn: metricSet.MetricSetArn, intervalStart: new Date(LIVE + 2 * HOUR).toISOString() }) }]);
  });
});

describe("a catch-up interval that cannot start", () => {
  it("is reported to the observer as FAILED, as every other interval of the catch-up is", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(1, 3);
    const head = modelHead(rt, metricSet);
    const reported: [number, string, string?][] = [];
    const watched = {
      ...rt,
      observer: {
        ...rt.observer,
        intervalRun: (run: DueRun) => {
          reported.push([run.intervalStart - LIVE, run.outcome.kind, run.outcome.kind === "failed" ? run.outcome.execution.Status : undefined]);
          // Once the first interval of the catch-up is committed, the model can no longer be read: the next interval loads it itself.
          if (run.intervalStart === LIVE + HOUR) writeFileSync(head, "not a model");
        },
      },
    };
    setNow(LIVE + 3 * HOUR);
    await expect(detectDue(watched, LIVE + 3 * HOUR)).rejects.toThrow(SyntaxError);
    expect(reported).toEqual([
      [HOUR, "processed", undefined],
      [2 * HOUR, "failed", "FAILED"],
    ]);
    const arn = await detectorArn(rt);
    expect((await executions(rt, OPERATOR, arn, LIVE + 2 * HOUR))[0]).toMatchObject({ Status: "FAILED", runsAgain: true });
  });
});

describe("50 invocations at once on an interval that cannot start", () => {
  it("leave a COMPLETED interval COMPLETED and the next one FAILED with its reason, and once the model reads again one of 50 detects it", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(1, 3);
    const head = modelHead(rt, metricSet);
    const saved = (await rt.blobs.get(head))!;
    await rt.blobs.put(head, new TextEncoder().encode("not a model"));
    setNow(LIVE + 2 * HOUR);
    const tries = await Promise.allSettled(Array.from({ length: 50 }, (_, n) => detectInterval(rt, metricSet, n % 2 ? LIVE : LIVE + HOUR, LIVE + 2 * HOUR)));
    expect(tries.every((t) => t.status === "rejected")).toBe(true);
    const arn = await detectorArn(rt);
    expect((await executions(rt, OPERATOR, arn, LIVE))[0]?.Status).toBe("COMPLETED");
    expect((await executions(rt, OPERATOR, arn, LIVE + HOUR))[0]).toMatchObject({ Status: "FAILED", FailureReason: expect.stringMatching(/\S/) });
    await rt.blobs.put(head, saved);
    const runs = await Promise.all(Array.from({ length: 50 }, () => detectInterval(rt, metricSet, LIVE + HOUR, LIVE + 2 * HOUR)));
    expect(runs.filter((r) => r.kind === "processed")).toHaveLength(1);
    expect((await executions(rt, OPERATOR, arn)).filter((e) => Date.parse(e.Timestamp) >= LIVE).map((e) => e.Status)).toEqual(["COMPLETED", "COMPLETED"]);
  });
});

describe("an interval that cannot start while another invocation runs it", () => {
  it("keeps the record of the run that holds the interval (IN_PROGRESS), so rows pushed meanwhile are not taken for a run that will not read them", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(1, 3);
    // Another invocation holds interval LIVE + HOUR, as detectInterval takes it.
    const key = await runElsewhere(rt, metricSet, LIVE + 2 * HOUR, LIVE + HOUR);
    // This one cannot read the model.
    const head = modelHead(rt, metricSet);
    await rt.blobs.put(head, new TextEncoder().encode("not a model"));
    await expect(detectInterval(rt, metricSet, LIVE + HOUR, LIVE + HOUR + 60_000)).rejects.toThrow();
    expect(await rt.records.get("executions", key)).toMatchObject({ Status: "IN_PROGRESS" });
  });
});

/** The shop with its first live interval detected and the next one FAILED to be run again (its model could not be read), the model readable again. */
async function failedToRunAgain() {
  const set = await detectedThrough(1, 3);
  const head = modelHead(set.rt, set.metricSet);
  const saved = (await set.rt.blobs.get(head))!;
  await set.rt.blobs.put(head, new TextEncoder().encode("not a model"));
  set.setNow(LIVE + 2 * HOUR);
  await expect(detectDue(set.rt, LIVE + 2 * HOUR)).rejects.toThrow();
  await set.rt.blobs.put(head, saved);
  const arn = await detectorArn(set.rt);
  expect((await executions(set.rt, OPERATOR, arn, LIVE + HOUR))[0]).toMatchObject({ Status: "FAILED", runsAgain: true });
  return { ...set, arn };
}

/** The services, with every interval the observer is told of. */
function reporting(rt: Runtime) {
  const told: DueRun[] = [];
  return { told, services: { ...rt, observer: { ...rt.observer, intervalRun: (run: DueRun) => void told.push(run) } } };
}

/**
 * The interval failedToRunAgain leaves FAILED to be run again, once detection stopped until
 * `later` and ten invocations at once catch up with a window of 3 intervals: it is FAILED for
 * falling out of the window, with the reason it had failed, not to be run again, and said once
 * (the others, meeting it held, leave it to the one giving it up).
 */
async function fallenOutOfWindow(later: number) {
  const set = await failedToRunAgain();
  set.setNow(later);
  const { told, services } = reporting(set.rt);
  await Promise.all(Array.from({ length: 10 }, () => detectMetricSet(services, set.metricSet, later, undefined, { maxCatchUp: 3 })));
  const [given] = await executions(set.rt, OPERATOR, set.arn, LIVE + HOUR);
  expect(given).toMatchObject({ Status: "FAILED", FailureReason: expect.stringMatching(/^Not detected: it fell out of the catch-up window .* \(it had failed: .+\)$/) });
  expect(given!.runsAgain).toBeUndefined();
  // Said FAILED once; an invocation that met the interval while another gave it up left it to that one.
  expect(told.filter((r) => r.intervalStart === LIVE + HOUR && r.outcome.kind !== "in-progress").map((r) => r.outcome.kind)).toEqual(["failed"]);
  return { ...set, given: given! };
}

describe("an interval to be run again that falls out of the catch-up window", () => {
  it("is FAILED for that, not to be run again, with the reason it had failed, and said once", async () => {
    // Detection stops until the interval is further back than the catch-up window (MAX_CATCH_UP, here 3 intervals) from the newest closed one.
    const later = LIVE + 6 * HOUR;
    const { rt, metricSet, arn, setNow, given } = await fallenOutOfWindow(later);
    expect(given.FailureReason).toContain(outOfWindow(3));
    expect(outOfWindow(MAX_CATCH_UP)).toContain(String(MAX_CATCH_UP));
    // The catch-up went on from the window's first interval, and a later one leaves the record as it is.
    expect((await executions(rt, OPERATOR, arn)).filter((e) => Date.parse(e.Timestamp) >= LIVE).map((e) => [Date.parse(e.Timestamp) - LIVE, e.Status])).toEqual([
      [5 * HOUR, "FAILED"],
      [4 * HOUR, "FAILED"],
      [3 * HOUR, "FAILED"],
      [HOUR, "FAILED"],
      [0, "COMPLETED"],
    ]);
    setNow(later + HOUR);
    await detectMetricSet(rt, metricSet, later + HOUR, undefined, { maxCatchUp: 3 });
    expect((await executions(rt, OPERATOR, arn, LIVE + HOUR))[0]).toEqual(given);
  });

  it("is FAILED for that too when detection jumps further than the window, where the metric set's records are read a page at a time", async () => {
    // Ten intervals on, the jump from the last detected interval (LIVE) is longer than the window of 3.
    await fallenOutOfWindow(LIVE + 11 * HOUR);
  });
});

describe("an interval left IN_PROGRESS by an invocation that stopped", () => {
  it("is taken over once its lease runs out, by exactly one of 50 invocations, and never while the lease is held", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(1, 3);
    const arn = await detectorArn(rt);
    // An invocation took interval LIVE + HOUR, as detectInterval does, and stopped; its lease runs until `until`.
    const later = LIVE + 6 * HOUR;
    const until = later + 30 * 60_000;
    const key = await runElsewhere(rt, metricSet, until, LIVE + 2 * HOUR);
    // While its lease is held, 50 invocations at once leave it to its holder.
    setNow(later);
    const { told, services } = reporting(rt);
    const waiting = await Promise.all(Array.from({ length: 50 }, () => detectMetricSet(services, metricSet, later, undefined, { maxCatchUp: 3 })));
    expect(waiting.flatMap((d) => d.runs.map((r) => [r.intervalStart, r.outcome.kind]))).toEqual(Array(50).fill([LIVE + HOUR, "in-progress"]));
    expect((await executions(rt, OPERATOR, arn, LIVE + HOUR))[0]?.Status).toBe("IN_PROGRESS");
    expect(await rt.records.get("leases", key)).toEqual({ until });
    // Once it ran out, one of 50 takes it over: the interval is FAILED, not run again, and the lease given back.
    setNow(until + 1);
    await Promise.all(Array.from({ length: 50 }, () => detectMetricSet(services, metricSet, until + 1, undefined, { maxCatchUp: 3 })));
    expect((await executions(rt, OPERATOR, arn, LIVE + HOUR))[0]).toMatchObject({ Status: "FAILED", FailureReason: outOfWindow(3) });
    // Detection went on from the window's first interval.
    expect((await executions(rt, OPERATOR, arn)).filter((e) => Date.parse(e.Timestamp) >= LIVE).map((e) => e.Status)).toEqual(["FAILED", "FAILED", "FAILED", "FAILED", "COMPLETED"]);
    expect(told.filter((r) => r.intervalStart === LIVE + HOUR && r.outcome.kind === "failed")).toHaveLength(1);
    expect(await rt.records.get("leases", key)).toBeUndefined();
  });

  it("is run again by a later catch-up once its lease runs out, by exactly one of 50 invocations, and never while the lease is held", async () => {
    const set = await detectedThrough(1, 3);
    const { rt, metricSet } = set;
    const key = await runElsewhere(rt, metricSet, LIVE + 2 * HOUR + LEASE_MS, LIVE + 2 * HOUR);
    const held = LIVE + 2 * HOUR + LEASE_MS - 1;
    set.setNow(held);
    const waiting = await Promise.all(Array.from({ length: 50 }, () => detectMetricSet(rt, metricSet, held)));
    expect(waiting.flatMap((d) => d.runs.map((r) => r.outcome.kind))).toEqual(Array(50).fill("in-progress"));
    const after = LIVE + 2 * HOUR + LEASE_MS + 1;
    set.setNow(after);
    const runs = (await Promise.all(Array.from({ length: 50 }, () => detectMetricSet(rt, metricSet, after)))).flatMap((d) => d.runs);
    expect(runs.filter((r) => r.intervalStart === LIVE + HOUR && r.outcome.kind === "processed")).toHaveLength(1);
    const arn = await detectorArn(rt);
    expect((await executions(rt, OPERATOR, arn, LIVE + HOUR))[0]?.Status).toBe("COMPLETED");
  });
});

describe("an interval that cannot start, left IN_PROGRESS by an invocation that stopped", () => {
  it("is FAILED with the reason once the stopped run's lease ran out, by one of 50 invocations, and detected once the model reads again", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(1, 3);
    // An invocation took interval LIVE + HOUR, as detectInterval does, and stopped.
    const key = await runElsewhere(rt, metricSet, LIVE + 2 * HOUR + LEASE_MS, LIVE + 2 * HOUR);
    const head = modelHead(rt, metricSet);
    const saved = (await rt.blobs.get(head))!;
    await rt.blobs.put(head, new TextEncoder().encode("not a model"));
    const after = LIVE + 2 * HOUR + LEASE_MS + 1;
    setNow(after);
    const tries = await Promise.allSettled(Array.from({ length: 50 }, () => detectInterval(rt, metricSet, LIVE + HOUR, after)));
    expect(tries.every((t) => t.status === "rejected")).toBe(true);
    expect(await rt.records.get("executions", key)).toMatchObject({ Status: "FAILED", FailureReason: expect.stringMatching(/\S/), runsAgain: true });
    expect(await rt.records.get("leases", key)).toBeUndefined();
    await rt.blobs.put(head, saved);
    const runs = await Promise.all(Array.from({ length: 50 }, () => detectInterval(rt, metricSet, LIVE + HOUR, after)));
    expect(runs.filter((r) => r.kind === "processed")).toHaveLength(1);
    expect(await rt.records.get("executions", key)).toMatchObject({ Status: "COMPLETED" });
  });
});

describe("a catch-up that read the model before another invocation went on", () => {
  it("leaves the intervals the other invocation completed COMPLETED, not PENDING", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(1, 3);
    // This invocation read the model here; another one then detects the next two intervals.
    const read = (await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!;
    setNow(LIVE + 3 * HOUR);
    expect((await detectDue(rt, LIVE + 3 * HOUR)).map((r) => r.outcome.kind)).toEqual(["processed", "processed"]);
    const done = await detectMetricSet(rt, metricSet, LIVE + 3 * HOUR, read);
    expect(done.runs.map((r) => r.outcome.kind)).toEqual(["processed-elsewhere"]);
    const arn = await detectorArn(rt);
    expect((await executions(rt, OPERATOR, arn)).filter((e) => Date.parse(e.Timestamp) >= LIVE).map((e) => e.Status)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
  });
});

/** Detection at each live hour from `from` to `to`, the clock set to it: every run. */
async function detectHours(set: Pick<Awaited<ReturnType<typeof setUp>>, "rt" | "setNow">, from: number, to: number) {
  const runs = [];
  for (let h = from; h <= to; h++) {
    set.setNow(LIVE + h * HOUR);
    runs.push(...(await detectDue(set.rt, LIVE + h * HOUR)));
  }
  return runs;
}

/** The shop set up with `liveHours` of live files, and detection run through its first `hours` live hours. */
async function detectedThrough(hours: number, liveHours = 10, options: Parameters<typeof localAt>[2] = {}) {
  const set = await setUp(liveHours, options);
  await detectHours(set, 1, hours);
  return set;
}

/** Rewrites the metric set's saved model as an older engine wrote it: its head and shards, in a format this engine no longer reads. Answers the model as it was. */
async function outdate(rt: Runtime, metricSet: ShopMetricSet) {
  const root = metricSetRoot(rt.resultsRoot, metricSet);
  const before = (await readModel(rt.blobs, root))!;
  const files = await rt.blobs.list(`${modelFolder(root)}/`);
  expect(files.length).toBeGreaterThan(1);
  for (const uri of files) {
    await rt.blobs.put(uri, inOldFormat((await rt.blobs.get(uri))!));
  }
  expect((await readModel(rt.blobs, root))!).toMatchObject({ outdated: true, head: { through: before.head.through } });
  return before;
}

/**
 * The runtime seen through files whose live folder fails to read (while `liveUnreadable`),
 * and whose history's first read has another invocation, given the model its activation
 * learned, commit the interval LIVE (once `commitOnHistory`).
 */
function racedOnHistory(rt: Runtime, root: string) {
  const state = { liveUnreadable: true, commitOnHistory: false };
  const seen: Runtime = {
    ...rt,
    dataFiles: (grant) => {
      const files = rt.dataFiles(grant);
      return {
        ...files,
        read: async (uri: string) => {
          if (state.liveUnreadable && uri.includes("/live/")) throw new Error("the disk failed");
          if (state.commitOnHistory && uri.includes("/history/")) {
            state.commitOnHistory = false;
            const empty = emptyModel(HOUR, [7, 11]);
            await commitModel(rt.blobs, root, { ...empty, head: { ...empty.head, through: LIVE } });
          }
          return files.read(uri);
        },
      };
    },
  };
  return { seen, state };
}

describe("a model saved by an older engine", () => {
  it("is learned again from the history, and detection goes on from where it had got to", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(3);
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    const before = await outdate(rt, metricSet);
    // A process that stopped while learning it again left its lease: the next start gives it back.
    const learning = `${metricSetKey(metricSet.MetricSetArn)}/history`;
    expect(await rt.records.claim(learning, LIVE + 4 * HOUR + 15 * 60_000, LIVE + 4 * HOUR)).toBe(true);
    expect(await releaseStaleLeases(rt, LIVE + 4 * HOUR)).toEqual({ leases: 1, visits: 0 });
    expect(await rt.records.get("leases", learning)).toBeUndefined();

    const runs = await detectHours({ rt, setNow }, 4, 10);
    // No interval failed, none was run twice, and the incident of hours 5–6 is still found.
    expect(runs.map((r) => [r.intervalStart, r.outcome.kind])).toEqual(Array.from({ length: 7 }, (_, i) => [LIVE + (i + 3) * HOUR, "processed"]));
    expect(runs.some((r) => r.outcome.kind === "processed" && r.outcome.group?.startMs === LIVE + 5 * HOUR)).toBe(true);
    // The model learned again is this engine's, and the outdated versions are gone.
    const after = (await readModel(rt.blobs, root))!;
    expect(after.outdated).toBeUndefined();
    expect(after.head.through).toBe(LIVE + 9 * HOUR);
    expect(after.shards.every((s) => !before.shards.some((b) => b.version === s.version))).toBe(true);
  });

  it("whose history has grown past BytesPerHistory goes on from nothing, from where it had got to, rather than stop", async () => {
    const quotas = { ...L4M_QUOTAS, bytesPerHistory: { ...L4M_QUOTAS.bytesPerHistory, PT1H: 256 * 1024 } };
    const { rt, metricSet, files, setNow } = await detectedThrough(3, 10, { quotas });
    await rt.blobs.put(join(files, "history", "more.csv.gz"), gzipSync(`timestamp,platform,marketplace,views,revenue\n${`${sqlTime(T0 + HOUR)},web,de,1,1\n`.repeat(100_000)}`));
    const before = await outdate(rt, metricSet);
    const runs = await detectHours({ rt, setNow }, 4, 6);
    expect(runs.map((r) => [r.intervalStart, r.outcome.kind])).toEqual(Array.from({ length: 3 }, (_, i) => [LIVE + (i + 3) * HOUR, "processed"]));
    const after = (await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!;
    expect(after.outdated).toBeUndefined();
    expect(after.head.through).toBe(LIVE + 5 * HOUR);
    // Nothing of the outdated model is left, and nothing of the history was learned: only the live intervals' series.
    expect(after.shards.every((s) => !before.shards.some((b) => b.version === s.version))).toBe(true);
    expect(await rt.blobs.list(`${join(metricSetRoot(rt.resultsRoot, metricSet), "runs")}/`)).toEqual([]);
  });
});

describe("a metric set already detecting without a saved model", () => {
  it("whose history has grown past its quota goes on from nothing rather than read and refuse the history at every run", async () => {
    const quotas = { ...L4M_QUOTAS, seriesPerMetricSet: { ...L4M_QUOTAS.seriesPerMetricSet, PT1H: 10 } };
    const { rt, metricSet, files } = await setUp(2, { quotas });
    const header = "timestamp,platform,marketplace,views,revenue\n";
    // Activated on an empty history (nothing to commit), its first interval failed (to be run again): detecting, no model saved.
    await rt.blobs.put(join(files, "history", "all.csv"), header);
    const reads: string[] = [];
    const unreadable = { on: true };
    const seen: Runtime = {
      ...rt,
      dataFiles: (grant) => {
        const files = rt.dataFiles(grant);
        return { ...files, read: (uri: string) => (reads.push(uri), unreadable.on && uri.includes("/live/") ? Promise.reject(new Error("the disk failed")) : files.read(uri)) };
      },
    };
    await expect(detectDue(seen, LIVE + HOUR)).rejects.toThrow("the disk failed");
    const arn = await detectorArn(rt);
    expect((await describeDetector(rt, OPERATOR, arn)).Status).toBe("LEARNING");
    expect(await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet))).toBeUndefined();
    // Then a history of endless new series lands.
    await rt.blobs.put(join(files, "history", "many.csv"), `${header}${Array.from({ length: 1000 }, (_, i) => `${sqlTime(T0 + HOUR)},web,m${i},1,1\n`).join("")}`);
    unreadable.on = false;
    expect((await detectDue(seen, LIVE + HOUR)).map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[LIVE, "processed"]]);
    expect((await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head.through).toBe(LIVE);
    reads.length = 0;
    expect((await detectDue(seen, LIVE + 2 * HOUR)).map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[LIVE + HOUR, "processed"]]);
    expect(reads.filter((uri) => uri.includes("/history/"))).toEqual([]);
  });
  it("whose history is refused while another run commits its first interval keeps that run's model rather than commit an empty one over it", async () => {
    const quotas = { ...L4M_QUOTAS, seriesPerMetricSet: { ...L4M_QUOTAS.seriesPerMetricSet, PT1H: 10 } };
    const { rt, metricSet, files } = await setUp(2, { quotas });
    const header = "timestamp,platform,marketplace,views,revenue\n";
    await rt.blobs.put(join(files, "history", "all.csv"), header);
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    const { seen, state } = racedOnHistory(rt, root);
    await expect(detectDue(seen, LIVE + HOUR)).rejects.toThrow("the disk failed");
    expect(await readModel(rt.blobs, root)).toBeUndefined();
    await rt.blobs.put(join(files, "history", "many.csv"), `${header}${Array.from({ length: 1000 }, (_, i) => `${sqlTime(T0 + HOUR)},web,m${i},1,1\n`).join("")}`);
    Object.assign(state, { liveUnreadable: false, commitOnHistory: true });
    expect(await detectDue(seen, LIVE + HOUR)).toEqual([]);
    expect(state.commitOnHistory).toBe(false);
    expect((await readModel(rt.blobs, root))!.head.through).toBe(LIVE);
  });

  it("whose history is learned while another run commits its first interval leaves no spill and gives its lease back", async () => {
    const { rt, metricSet, files } = await setUp(2);
    const history = join(files, "history", "all.csv");
    const learnable = (await rt.blobs.get(history))!;
    await rt.blobs.put(history, "timestamp,platform,marketplace,views,revenue\n");
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    const { seen, state } = racedOnHistory(rt, root);
    await expect(detectDue(seen, LIVE + HOUR)).rejects.toThrow("the disk failed");
    await rt.blobs.put(history, learnable);
    Object.assign(state, { liveUnreadable: false, commitOnHistory: true });
    expect(await detectDue(seen, LIVE + HOUR)).toEqual([]);
    expect(state.commitOnHistory).toBe(false);
    expect((await readModel(rt.blobs, root))!.head.through).toBe(LIVE);
    expect(await rt.blobs.list(`${join(root, "runs")}/`)).toEqual([]);
    expect(await rt.records.get("leases", `${metricSetKey(metricSet.MetricSetArn)}/history`)).toBeUndefined();
  });
});

describe("a model saved before models had shards", () => {
  it("is read as one shard where it was saved (model.bin), and the next commit writes the model's head beside it", async () => {
    const { rt, metricSet, setNow } = await detectedThrough(3);
    // The same model as one snapshot in model.bin, as detection saved it before shards.
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    const sharded = (await readModel(rt.blobs, root))!;
    expect(sharded.shards).toHaveLength(1);
    const bank = await readShard(rt.blobs, root, sharded.shards[0]!.version, "", HOUR);
    await rt.blobs.put(modelUri(root), encodeSnapshot({ ...sharded.head, bank }));
    await rt.blobs.deleteFolder(`${modelFolder(root)}/`);
    expect(await readModel(rt.blobs, root)).toEqual({ head: sharded.head, shards: [{ id: "", series: bank.size, version: LEGACY_VERSION }] });

    const runs = await detectHours({ rt, setNow }, 4, 10);
    expect(runs.map((r) => [r.intervalStart, r.outcome.kind])).toEqual(Array.from({ length: 7 }, (_, i) => [LIVE + (i + 3) * HOUR, "processed"]));
    expect(runs.some((r) => r.outcome.kind === "processed" && r.outcome.group?.startMs === LIVE + 5 * HOUR)).toBe(true);
    const after = (await readModel(rt.blobs, root))!;
    expect(after.head.through).toBe(LIVE + 9 * HOUR);
    expect(after.shards.map((s) => s.version)).not.toContain(LEGACY_VERSION);
    expect((await readShard(rt.blobs, root, after.shards[0]!.version, "", HOUR)).size).toBe(bank.size);
  });
});

describe("a wide outage's group", () => {
  it("is stored within its bounds and carried so by the model, counting every series once across its intervals", async () => {
    const dir = await tempDir();
    const live = T0 + 14 * 24 * HOUR;
    let now = live;
    const services = localAt(dir, () => now);
    // 600 series (20 platforms in 30 marketplaces), all of whose views fall to a fifth for the first two live hours.
    const series = Array.from({ length: 600 }, (_, i) => ({ platform: `p${i % 20}`, marketplace: `m${Math.floor(i / 20)}`, base: 300 + (i % 7) * 50 }));
    const outage = (p: ShopPoint): ShopPoint => (p.t < live + 2 * HOUR ? { ...p, views: Math.round(Number(p.views) / 5) } : p);
    await services.blobs.put(join(dir, "files", "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, series)));
    for (let h = 0; h < 2; h++) await services.blobs.put(join(dir, "files", "live", liveFolder(live + h * HOUR), "p.csv"), csvOf(shopPoints(live + h * HOUR, 1, series, outage)));
    const { detector, metricSet } = await shopOnFiles(services, join(dir, "files"));
    await activateDetector(services, OPERATOR, detector.AnomalyDetectorArn);
    const root = metricSetRoot(services.resultsRoot, metricSet);
    const views = (g: AnomalyGroupRecord) => toAnomalyGroup(g).MetricLevelImpactList.find((m) => m.MetricName === "views")!.NumTimeSeries;
    const anomalies: number[] = [];
    for (const h of [1, 2]) {
      now = live + h * HOUR;
      const [run] = await detectDue(services, now);
      expect(run?.outcome.kind).toBe("processed");
      if (run?.outcome.kind === "processed") anomalies.push(run.outcome.execution.anomalies);
      const stored = (await services.records.list<AnomalyGroupRecord>("groups"))[0]!;
      expect(stored.revision).toBe(h);
      expect(Object.keys(stored.impacts["views"]!.series)).toHaveLength(GROUP_SERIES_KEPT);
      // The model carries the record, not every series; the series it let go of are still counted once, as members, when they deviate again.
      expect((await readModel(services.blobs, root))!.head.openGroup).toEqual(stored);
      expect(views(stored)).toBe(600);
      expect(stored.anomalyCount).toBe(anomalies.reduce((s, n) => s + n, 0));
    }
    expect(anomalies).toEqual([600, 600]);
  });
});

/** Local services at a fixed `now`, and a metric set of hosts (one measure) that no detector has run yet. */
async function hostsAt(now: number) {
  const dir = await tempDir();
  const rt = localAt(dir, () => now);
  const metricSet = { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/d/m" as MetricSetArn, AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:d" as AnomalyDetectorArn, MetricSetName: "m", MetricSetFrequency: "PT1H", DimensionList: ["host"], MetricList: [{ MetricName: "v", AggregationFunction: "SUM" }] } as unknown as MetricSet;
  return { dir, now, rt, metricSet };
}

describe("a model of the format before, its group of every series going on without anomalies", () => {
  // An interval that only keeps the group open (its members' deviation persists, no anomaly) marks its members; the head it commits is the group's carried form, so the next does not mark them again.
  it("is carried in its bounded form after the interval that marked its members, so the next does not mark them again", async () => {
    const { dir, now, rt, metricSet } = await hostsAt(T0 + 10 * HOUR);
    const ctx = { detectorArn: metricSet.AnomalyDetectorArn, metricSetArn: metricSet.MetricSetArn, dimensionNames: ["host"], intervalMs: HOUR };
    const start = T0 + 8 * HOUR;
    // The head of a model of the format before: the group of all its 700 series.
    const anomalies = Array.from({ length: 700 }, (_, i) => anomalyOf({ metricSetArn: metricSet.MetricSetArn, measure: "v", dimensions: [["host", `h${i}`]], t: start, actual: 1000 - 10 * (3 + (i % 50)), expected: 1000, band: 10 * BAND_Z }));
    const whole = advanceGroup(ctx, undefined, anomalies, noMembers(), start).open!;
    expect(carriedGroup(whole)).not.toBe(whole);
    const model: ShardedModel = { head: { bank: new SeriesBank(HOUR, 0), through: start, openGroup: whole, feedbackThrough: 0 }, shards: [{ id: "", version: "v0", series: 700 }] } as unknown as ShardedModel;
    const lease = "lease";
    const leaseUntil = now + LEASE_MS;
    await rt.records.put("leases", lease, { until: leaseUntil });
    const intervalStart = start + HOUR;
    const plan = { kind: "interval" as const, metricSet, lease, leaseUntil, work: `${dir}/work`, version: "v1", jobs: [], intervalStart, base: start, feedbackThrough: 0, quality: { rowsRead: 0, rowsRejected: 0, timeSeriesCount: 0 } as never, seriesScored: 0, scored: false };
    // The marking interval: no anomaly, members persisting.
    const result: ShardResult = { target: "", written: [], anomalies: [], windows: {}, members: { ...noMembers(), persisting: 3 }, kept: [], learned: 0 };
    const outcome = await finishInterval(rt, plan, [result], now, model);
    expect(outcome.kind).toBe("processed");
    const head = (await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head;
    expect(head.openGroup?.AnomalyGroupId).toBe(whole.AnomalyGroupId);
    const open = head.openGroup as AnomalyGroupRecord;
    // What the next interval's `marking` asks: no more series than a record keeps.
    expect(holdsMore(open)).toBe(false);
    expect(open).toEqual(carriedGroup(whole));
  });
});

describe("a merge run elsewhere, its metric set's first model made meanwhile under another hash key", () => {
  // Its shards were split by the key of the model it planned on (uncommitted: a history with nothing to learn); another run committed an empty model under a key of its own.
  it("does not commit its shards under that key: the interval is left to run again on the model that stands", async () => {
    const { dir, now, rt, metricSet } = await hostsAt(T0 + 10 * HOUR);
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    await commitModel(rt.blobs, root, emptyModel(HOUR, [1, 2]));
    const lease = "lease";
    const leaseUntil = now + LEASE_MS;
    await rt.records.put("leases", lease, { until: leaseUntil });
    const plan = { kind: "interval" as const, metricSet, lease, leaseUntil, work: `${dir}/work`, version: "v1", jobs: [{ target: "0", replaces: "", readOnly: false }, { target: "1", replaces: "", readOnly: false }], intervalStart: T0 + 9 * HOUR, base: null, feedbackThrough: 0, quality: { rowsRead: 2, rowsRejected: 0, timeSeriesCount: 2 } as never, seriesScored: 2, scored: true, hashKey: [3, 4] as const };
    const result = (target: string): ShardResult => ({ target, written: [{ id: target, series: 1, version: "v1" }], anomalies: [], windows: {}, members: noMembers(), kept: [], learned: 0 });
    const outcome = await finishInterval(rt, plan, [result("0"), result("1")], now);
    expect(outcome.kind).toBe("lease-expired");
    const model = (await readModel(rt.blobs, root))!;
    expect(model.hashKey).toEqual([1, 2]);
    expect(model.shards).toEqual([{ id: "", series: 0, version: "" }]);
    // Merged on the model its shards were split for, it commits them under that key.
    await commitModel(rt.blobs, root, emptyModel(HOUR, [3, 4]));
    await rt.records.put("leases", lease, { until: leaseUntil });
    expect((await finishInterval(rt, plan, [result("0"), result("1")], now)).kind).toBe("processed");
    expect(await readModel(rt.blobs, root)).toMatchObject({ hashKey: [3, 4], shards: [{ id: "0" }, { id: "1" }] });
  });
});

describe("a detector deactivated while detection activates it", () => {
  it("stays deactivated: activation moves it on only from ACTIVATING", async () => {
    const { rt, metricSet, live } = await activeShop();
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    let once = false;
    // The owner deactivates it as its history's model is committed.
    const deactivating = { ...rt, blobs: new Proxy(rt.blobs, {
      get: (target, key) =>
        key === "put"
          ? async (...args: Parameters<typeof target.put>) => {
              if (!once && args[0].startsWith(`${root}/model`)) {
                once = true;
                await deactivateDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn);
              }
              return target.put(...args);
            }
          : Reflect.get(target, key, target),
    }) };
    expect(await detectDue(deactivating, live)).toEqual([]);
    expect(once).toBe(true);
    expect((await describeDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn)).Status).toBe("DEACTIVATED");
  });
});
