import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { activateDetector, createDetector, createMetricSet, deactivateDetector, deleteDetector, detectDue, OPERATOR, putMetricRows, type Services } from "../../../shared/app/index.ts";
import { catalogOf } from "../../../shared/app/scope.ts";
import { PUSH_HOLD_MS } from "../../../shared/app/detect.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import { headUri } from "../../../shared/detect/shard-model.ts";
import { classifyPushedRows } from "../../../shared/ingest/pushed-rows.ts";
import { joinUri } from "../../../shared/model/location.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import { PutMetricRowsRequest } from "../../../shared/model/push.ts";
import { parseOrThrow } from "../../../shared/model/validate.ts";
import { HOUR, latch, localAt, metricSetRequest, shopPoints, sqlTime, T0, tempDir, type ShopPoint } from "../../builders.ts";

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
/** PutMetricRows as the wire takes it: the request checked, then the use case. */
const push = async (rt: Services, body: unknown, requestId: string) => putMetricRows(rt, OPERATOR, parseOrThrow(PutMetricRowsRequest, body, "PutMetricRows request"), requestId);

const rowsOf = (points: readonly ShopPoint[]) => points.map((p) => ({ timestamp: sqlTime(p.t), platform: p.platform, marketplace: p.marketplace, views: p.views }));

/** The services, with `during` run before the first file whose address holds `name` is written. */
function beforeWrite(rt: Services, name: string, during: () => Promise<void>): Services {
  let done = false;
  const blobs = new Proxy(rt.blobs, {
    get: (target, key) =>
      key === "put"
        ? async (...args: Parameters<Services["blobs"]["put"]>) => {
            if (!done && args[0].includes(name)) {
              done = true;
              await during();
            }
            return target.put(...args);
          }
        : Reflect.get(target, key, target),
  });
  return { ...rt, blobs };
}

/** A shop whose rows for its first `hours` hours were pushed and detected (its model runs through the last of them). */
async function detectedShop(now: () => number, hours: number) {
  const shop = await pushedShop(now);
  await push(shop.rt, { MetricSetArn: shop.metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0, hours, SERIES)) }, "history");
  await detectDue(shop.rt, now());
  return shop;
}

/** The store, with detection run once (its runs told in `midway`) when a request marks interval `start` as awaiting its run. */
function detectingAsMarked(rt: Services, start: number, now: () => number, midway: string[]): Services["records"] {
  return new Proxy(rt.records, {
    get: (target, key) =>
      key === "putMany"
        ? async (writes: Parameters<Services["records"]["putMany"]>[0]) => {
            if (!midway.length && writes.some((w) => w.table === "executions" && w.id.endsWith(`/${start}`))) midway.push(...(await detectDue(rt, now())).map((r) => `${(r.intervalStart - T0) / HOUR}:${r.outcome.kind}`));
            return target.putMany(writes);
          }
        : Reflect.get(target, key, target),
  });
}

async function pushedShop(now: () => number, onto?: Services) {
  const dir = await tempDir();
  const rt = onto ?? localAt(dir, now);
  const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "pushed", MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], MetricSource: { HttpPushConfig: {} } }));
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
  return { rt, metricSet, dir };
}

describe("classifyPushedRows", () => {
  it("accounts for every row: accepted under its interval or rejected with its index", () => {
    const metricSet = { MetricSetArn: "arn:x", MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], DimensionList: ["platform"], TimestampColumn: { ColumnName: "ts", ColumnFormat: "ISO_8601" }, Timezone: "UTC" } as unknown as MetricSet;
    const row = fc.oneof(
      fc.record({ ts: fc.oneof(fc.date({ min: new Date(T0), max: new Date(T0 + 100 * HOUR), noInvalidDate: true }).map((d) => d.toISOString()), fc.string()), platform: fc.oneof(fc.constantFrom("web", "app"), fc.constant(""), fc.integer()), views: fc.oneof(fc.integer(), fc.string(), fc.constant(null)) }, { requiredKeys: [] }),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        const { intervals, rejects } = classifyPushedRows(metricSet, rows, HOUR, "test");
        const accepted = [...intervals.values()].flat().map((r) => r.line);
        const rejected = rejects.filter((r) => !r.partial).map((r) => r.line);
        expect([...accepted, ...rejected].sort((a, b) => a - b)).toEqual(rows.map((_, i) => i + 1));
        for (const [start, rs] of intervals) for (const r of rs) expect(Math.floor(r.timestamp / HOUR) * HOUR).toBe(start);
      }),
    );
  });

  it("refuses a dimension value holding a lone surrogate, which its interval's file would keep as U+FFFD, another series' value", () => {
    const metricSet = { MetricSetArn: "arn:x", MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], DimensionList: ["platform", "marketplace"], TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" }, Timezone: "UTC" } as unknown as MetricSet;
    // As a request body sends them: JSON's escapes may write a lone surrogate.
    const rows = JSON.parse(`[${["de\\ud800", "de\\udc00x", "de\\ufffd", "de\\ud83d\\ude00"].map((m) => `{"timestamp":"${sqlTime(T0)}","platform":"web","marketplace":"${m}","views":1}`).join(",")}]`) as unknown[];
    const { intervals, rejects } = classifyPushedRows(metricSet, rows, HOUR, "test");
    expect(rejects.map((r) => [r.line, r.reason, r.detail])).toEqual([
      [1, "MALFORMED_RECORD", expect.stringContaining("dimension 'marketplace' holds a lone surrogate")],
      [2, "MALFORMED_RECORD", expect.stringContaining("dimension 'marketplace' holds a lone surrogate")],
    ]);
    expect(intervals.get(T0)!.map((r) => r.dimensions[1])).toEqual(["de\ufffd", "de\u{1f600}"]);
  });
});

describe("PutMetricRows", () => {
  it("files pushed rows by interval, which detection reads, and finds the dip", async () => {
    let now = T0;
    const { rt, metricSet } = await pushedShop(() => now);
    const live = T0 + 14 * 24 * HOUR;
    const dip = (p: ShopPoint): ShopPoint => (p.marketplace === "de" && p.t === live + 3 * HOUR ? { ...p, views: Math.round(Number(p.views) / 6) } : p);
    const history = rowsOf(shopPoints(T0, 14 * 24, SERIES));
    for (let i = 0; i < history.length; i += 5000) {
      now = T0 + 14 * 24 * HOUR;
      const r = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: history.slice(i, i + 5000) }, `history-${i}`);
      expect(r).toMatchObject({ RowsRejected: 0, Rejects: [] });
    }
    const groups: string[] = [];
    for (let h = 0; h < 6; h++) {
      now = live + (h + 1) * HOUR - 30 * 60_000;
      await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(live + h * HOUR, 1, SERIES, dip)) }, `live-${h}`);
      now = live + (h + 1) * HOUR;
      for (const run of await detectDue(rt, now)) if (run.outcome.kind === "processed" && run.outcome.group) groups.push(run.outcome.group.AnomalyGroupId);
    }
    const found = await rt.records.list<AnomalyGroupRecord>("groups");
    expect(found.map((g) => g.startMs)).toContain(live + 3 * HOUR);
    expect(groups.length).toBeGreaterThan(0);
  });

  it("files a daily metric set's rows under their date in its time zone, which detection reads once", async () => {
    const feb = (day: number, hour = 0) => Date.UTC(2021, 1, day, hour);
    let now = feb(9, 3);
    const rt = localAt(await tempDir(), () => now);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "daily", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "P1D" } });
    const metricSet = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "pushed", MetricSetFrequency: "P1D", Timezone: "America/New_York", MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], MetricSource: { HttpPushConfig: {} } }));
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    // New York's 8 February: from its first minute, and its last (04:30 UTC on the 9th).
    const rows = [
      { timestamp: "2021-02-08 00:10:00", platform: "web", marketplace: "us", views: 5 },
      { timestamp: "2021-02-08 23:30:00", platform: "web", marketplace: "us", views: 7 },
    ];
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rows }, "day")).toMatchObject({ RowsAccepted: 2, RowsRejected: 0 });
    const folder = join(metricSetRoot(rt.resultsRoot, metricSet), "ingested", "20210208", "0000");
    expect(new TextDecoder().decode(await rt.blobs.get(join(folder, "push-day.csv")))).toContain(`${new Date(feb(9, 4) + 30 * 60_000).toISOString()},web,us,7`);
    now = feb(9, 6);
    const runs = await detectDue(rt, now);
    const run = runs.find((r) => r.intervalStart === feb(8));
    expect(run?.outcome).toMatchObject({ kind: "processed", execution: { Status: "COMPLETED", rowsRead: 2, rowsRejected: 0 } });
  });

  it("takes the next date's rows in a zone ahead of UTC as it takes the next interval's anywhere", async () => {
    // 00:30 on 9 February in Kiritimati (UTC+14) is 10:30 UTC on the 8th: the 10th starts there within a day.
    const rt = localAt(await tempDir(), () => Date.UTC(2021, 1, 8, 10, 30));
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "daily", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "P1D" } });
    const metricSet = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "pushed", MetricSetFrequency: "P1D", Timezone: "Pacific/Kiritimati", MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], MetricSource: { HttpPushConfig: {} } }));
    const rows = [{ timestamp: "2021-02-10 00:10:00", platform: "web", marketplace: "ki", views: 5 }];
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rows }, "next")).toMatchObject({ RowsAccepted: 1, RowsRejected: 0 });
    // The date after is refused, and named as the day it is there.
    const later = [{ timestamp: "2021-02-11 00:10:00", platform: "web", marketplace: "ki", views: 5 }];
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: later }, "later")).toMatchObject({ RowsAccepted: 0, Rejects: [{ Reason: "OUTSIDE_INTERVAL", Message: "the interval 2021-02-11 in Pacific/Kiritimati is in the future" }] });
  });

  it("says which rows it refused and why, keeps them, and refuses rows for an interval already detected", async () => {
    const now = T0 + 30 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    await rt.records.put("executions", `000000000000/shop/pushed/${T0 + 2 * HOUR}`, { Status: "COMPLETED" });
    const rows = [
      { timestamp: sqlTime(T0 + 29 * HOUR), platform: "web", marketplace: "de", views: 10 },
      { timestamp: "yesterday", platform: "web", marketplace: "de", views: 10 },
      { timestamp: sqlTime(T0 + 29 * HOUR), platform: "web", marketplace: "", views: 10 },
      { timestamp: sqlTime(T0 + 29 * HOUR), platform: "web", marketplace: "fr", views: "many" },
      { timestamp: sqlTime(T0 + 2 * HOUR), platform: "web", marketplace: "de", views: 10 },
      { timestamp: sqlTime(T0 + 40 * HOUR), platform: "web", marketplace: "de", views: 10 },
      "not a row",
    ];
    const r = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rows }, "req-1");
    expect(r.RowsAccepted).toBe(1);
    expect(r.RowsRejected).toBe(6);
    expect(r.Rejects.map((x) => [x.Index, x.Reason])).toEqual([
      [1, "INVALID_TIMESTAMP"],
      [2, "MISSING_DIMENSION_VALUE"],
      [3, "NON_NUMERIC_MEASURE"],
      [6, "MALFORMED_RECORD"],
      // A future interval's is refused before any record is read; then the one already detected.
      [5, "OUTSIDE_INTERVAL"],
      [4, "OUTSIDE_INTERVAL"],
    ]);
    expect(r.Rejects.find((x) => x.Index === 4)?.Message).toMatch(/already detected/);
    // Named within the metric set's results, not by where Vigil keeps them.
    expect(r.RejectsFile).toMatch(/^pushed-rejects\/\d{4}-\d\d-\d\d\/[^/]+\.jsonl$/);
    const kept = new TextDecoder().decode(await rt.blobs.get(joinUri(metricSetRoot(rt.resultsRoot, metricSet), r.RejectsFile!)));
    expect(kept.trim().split("\n")).toHaveLength(6);
  });

  it("refuses rows further back than a history reaches, and a request whose rows fall in more than 1,000 intervals, writing no file for them", async () => {
    const now = T0 + 400 * 24 * HOUR;
    const { rt, metricSet, dir } = await pushedShop(() => now);
    const ingested = join(dir, "results", "000000000000", "shop", "pushed", "ingested");
    const old = [{ timestamp: sqlTime(now - 366 * 24 * HOUR), platform: "web", marketplace: "de", views: 10 }, { timestamp: sqlTime(now - 2 * HOUR), platform: "web", marketplace: "de", views: 10 }];
    const r = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: old }, "old");
    expect(r).toMatchObject({ RowsAccepted: 1, RowsRejected: 1, Rejects: [{ Index: 0, Reason: "OUTSIDE_INTERVAL" }] });
    expect(r.Rejects[0]!.Message).toMatch(/is more than 365 days old, further back than Vigil reads a history/);
    expect(await rt.blobs.list(ingested)).toHaveLength(1);
    // 1,001 hours within the reach: refused whole, before any file.
    const spread = Array.from({ length: 1_001 }, (_, i) => ({ timestamp: sqlTime(now - (i + 2) * HOUR), platform: "web", marketplace: "de", views: 1 }));
    await expect(push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: spread }, "spread")).rejects.toThrow(/fall in 1001 intervals; a request may write at most 1000/);
    expect(await rt.blobs.list(ingested)).toHaveLength(1);
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: spread.slice(0, 1_000) }, "parts")).toMatchObject({ RowsAccepted: 1_000 });
  });

  it("takes rows for an interval whose detection stopped before it began (its model unreadable for a while), and detects it with them", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0, 24, SERIES)) }, "history")).toMatchObject({ RowsRejected: 0 });
    await detectDue(rt, now);
    const head = headUri(metricSetRoot(rt.resultsRoot, metricSet));
    const saved = (await rt.blobs.get(head))!;
    await rt.blobs.put(head, new TextEncoder().encode("not a model"));
    now = T0 + 25 * HOUR;
    await expect(detectDue(rt, now)).rejects.toThrow();
    // The interval was not detected: its rows, pushed a minute later, are still taken.
    now += 60_000;
    const late = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "late");
    expect(late).toMatchObject({ RowsAccepted: 2, RowsRejected: 0 });
    await rt.blobs.put(head, saved);
    const runs = await detectDue(rt, now);
    expect(runs.map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[T0 + 24 * HOUR, "processed"]]);
    expect(runs[0]!.outcome).toMatchObject({ execution: { Status: "COMPLETED", rowsRead: 2 } });
  });

  it("holds an interval while its rows are written: a run that begins meanwhile waits for them, and reads them", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    now = T0 + 25 * HOUR;
    // The run of the pushed rows' interval begins between the request's check of it and its file's write.
    let run: Promise<Awaited<ReturnType<typeof detectDue>>> | undefined;
    const writing = beforeWrite(rt, "push-late", async () => {
      run = detectDue(rt, now);
      await new Promise((r) => setTimeout(r, 100));
    });
    const late = await push(writing, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "late");
    expect(late).toMatchObject({ RowsAccepted: 2, RowsRejected: 0 });
    const runs = await run!;
    expect(runs.map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[T0 + 24 * HOUR, "processed"]]);
    // Every row the request took was read by the run that detected its interval.
    expect(runs[0]!.outcome).toMatchObject({ execution: { Status: "COMPLETED", rowsRead: late.RowsAccepted } });
    // Detected now: rows for it are refused, not taken and left unread.
    const again = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "again");
    expect(again).toMatchObject({ RowsAccepted: 0, RowsRejected: 2 });
    expect(again.Rejects.map((x) => x.Message)).toEqual([expect.stringMatching(/was already detected/), expect.stringMatching(/was already detected/)]);
  });

  it("keeps detection from going past an interval, for want of rows, while its rows are written: the next run reads them", async () => {
    let now = T0 + 25 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 25);
    // The earlier files are gone (a retention rule): a run finds no rows before hour 27 but those being written.
    await rt.blobs.deleteFolder(`${metricSetRoot(rt.resultsRoot, metricSet)}/ingested/`);
    now = T0 + 27 * HOUR;
    // Hours 25 and 26 have no rows yet; a run begins while hour 25's are being written.
    const midway: string[] = [];
    const writing = beforeWrite(rt, "push-h25", async () => {
      for (const run of await detectDue(rt, now)) midway.push(`${(run.intervalStart - T0) / HOUR}:${run.outcome.kind}`);
    });
    const taken = await push(writing, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 25 * HOUR, 1, SERIES)) }, "h25");
    expect(taken).toMatchObject({ RowsAccepted: 2, RowsRejected: 0 });
    expect(midway).toEqual(["25:in-progress"]);
    const runs = await detectDue(rt, now);
    expect(runs[0]).toMatchObject({ intervalStart: T0 + 25 * HOUR, outcome: { kind: "processed", execution: { rowsRead: 2 } } });
  });

  it("keeps detection from going past an interval without a record while rows are pushed for it: rows taken are rows read", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    // No rows at activation: detection begins at hour 23, and no interval after it has a record.
    await detectDue(rt, now);
    now = T0 + 26 * HOUR;
    // A run comes while the request holds hour 24, after it judged the hour and before it said the hour awaits its run.
    const midway: string[] = [];
    const records = detectingAsMarked(rt, T0 + 24 * HOUR, () => now, midway);
    const taken = await push({ ...rt, records }, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "h24");
    expect(midway).toEqual(["24:in-progress"]);
    expect(taken).toMatchObject({ RowsAccepted: 2 });
    const runs = await detectDue(rt, now);
    expect(runs[0]).toMatchObject({ intervalStart: T0 + 24 * HOUR, outcome: { kind: "processed", execution: { rowsRead: 2 } } });
  });

  it("refuses rows for an interval detection has gone past without a record, while the run it jumped to is under way", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    await rt.blobs.deleteFolder(`${metricSetRoot(rt.resultsRoot, metricSet)}/ingested/`);
    now = T0 + 27 * HOUR;
    await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 26 * HOUR, 1, SERIES)) }, "h26");
    // Detection jumps to hour 26, the first with rows; as it runs it, rows for hour 24 come.
    let late: Awaited<ReturnType<typeof push>> | undefined;
    let once = false;
    const records = new Proxy(rt.records, {
      get: (target, key) =>
        key === "put"
          ? async (...args: Parameters<Services["records"]["put"]>) => {
              const out = await target.put(...args);
              if (!once && args[0] === "executions" && args[1].endsWith(`/${T0 + 26 * HOUR}`) && (args[2] as { Status?: string }).Status === "IN_PROGRESS") {
                once = true;
                late = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "h24");
              }
              return out;
            }
          : Reflect.get(target, key, target),
    });
    expect((await detectDue({ ...rt, records }, now)).map((r) => [(r.intervalStart - T0) / HOUR, r.outcome.kind])).toEqual([[26, "processed"]]);
    expect(late).toMatchObject({ RowsAccepted: 0, RowsRejected: 2 });
    expect(late!.Rejects[0]!.Message).toMatch(/was passed by detection/);
  });

  it("keeps detection from jumping further than its window past an interval whose rows are being pushed: rows taken are rows read", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    await rt.blobs.deleteFolder(`${metricSetRoot(rt.resultsRoot, metricSet)}/ingested/`);
    now = T0 + (24 + 2_100) * HOUR + 10 * 60_000;
    const last = T0 + (24 + 2_099) * HOUR;
    const u = last - 5 * HOUR;
    await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(last, 1, SERIES)) }, "newest");
    // Detection runs when the request has judged hour u and is about to say it awaits its run.
    const midway: string[] = [];
    const records = detectingAsMarked(rt, u, () => now, midway);
    expect(await push({ ...rt, records }, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(u, 1, SERIES)) }, "u")).toMatchObject({ RowsAccepted: 2 });
    expect(midway).toEqual([`${(u - T0) / HOUR}:in-progress`]);
    now += HOUR;
    await detectDue(rt, now);
    expect(await rt.records.get("executions", `000000000000/shop/pushed/${u}`)).toMatchObject({ Status: "COMPLETED", rowsRead: 2 });
  }, 60_000);

  it("says detection went past intervals only once it has: a jump that gave way to rows being pushed leaves the intervals after them open to rows", async () => {
    let now = T0 + 25 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 25);
    await rt.blobs.deleteFolder(`${metricSetRoot(rt.resultsRoot, metricSet)}/ingested/`);
    now = T0 + 28 * HOUR;
    await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 27 * HOUR, 1, SERIES)) }, "h27");
    // Detection runs as hour 25's rows are being pushed: it gives way at hour 25.
    const midway: string[] = [];
    const records = detectingAsMarked(rt, T0 + 25 * HOUR, () => now, midway);
    expect(await push({ ...rt, records }, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 25 * HOUR, 1, SERIES)) }, "h25")).toMatchObject({ RowsAccepted: 2 });
    expect(midway).toEqual(["25:in-progress"]);
    // Hour 26 was not gone past: its rows are taken, and read.
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 26 * HOUR, 1, SERIES)) }, "h26")).toMatchObject({ RowsAccepted: 2 });
    const runs = await detectDue(rt, now);
    expect(runs.map((r) => [(r.intervalStart - T0) / HOUR, r.outcome.kind])).toEqual([[25, "processed"], [26, "processed"], [27, "processed"]]);
  });

  it("holds nothing for rows sure to be refused: detection does not give way to a client sending them", async () => {
    let now = T0 + 25 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 25);
    // The earlier files are gone (a retention rule): detection jumps from hour 24 to the recent rows.
    await rt.blobs.deleteFolder(`${metricSetRoot(rt.resultsRoot, metricSet)}/ingested/`);
    now = T0 + (26 + 2_100) * HOUR;
    await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(now - 3 * HOUR, 2, SERIES)) }, "recent");
    // Rows for hour 50, long out of the catch-up window, are being judged (their model read is slow) as detection jumps.
    const { done: isReading, open: reading } = latch();
    const { done: gate, open: go } = latch();
    const slowReads = { ...rt, blobs: new Proxy(rt.blobs, { get: (target, key) => (key === "get" ? async (...args: Parameters<Services["blobs"]["get"]>) => (reading(), await gate, target.get(...args)) : Reflect.get(target, key, target)) }) };
    const stale = push(slowReads, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 50 * HOUR, 1, SERIES)) }, "stale");
    await isReading;
    const runs = await detectDue(rt, now);
    go();
    expect(await stale).toMatchObject({ RowsAccepted: 0, RowsRejected: 2 });
    expect(runs.map((r) => r.outcome.kind)).not.toContain("in-progress");
  }, 60_000);

  it("takes rows for intervals after one detection gave way to, though it had said it went past them", async () => {
    let now = T0 + 25 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 25);
    await rt.blobs.deleteFolder(`${metricSetRoot(rt.resultsRoot, metricSet)}/ingested/`);
    now = T0 + 28 * HOUR;
    await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 27 * HOUR, 1, SERIES)) }, "h27");
    // Rows for hour 25 are judged just before detection says it went past hours 25 and 26, and are still being written when it looks again.
    const { done: isJudged, open: judged } = latch();
    const { done: gate, open: go } = latch();
    let h25: ReturnType<typeof push> | undefined;
    const records = new Proxy(rt.records, {
      get: (target, key) =>
        key === "update"
          ? async (...args: Parameters<Services["records"]["update"]>) => {
              if (!h25 && args[0] === "leases" && args[1].endsWith("/passed")) {
                h25 = push(beforeWrite(rt, "push-h25", async () => (judged(), await gate)), { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 25 * HOUR, 1, SERIES)) }, "h25");
                await isJudged;
              }
              return target.update(...args);
            }
          : Reflect.get(target, key, target),
    });
    const first = await detectDue({ ...rt, records }, now);
    go();
    expect(await h25!).toMatchObject({ RowsAccepted: 2 });
    expect(first.map((r) => `${(r.intervalStart - T0) / HOUR}:${r.outcome.kind}`)).toEqual(["25:in-progress"]);
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 26 * HOUR, 1, SERIES)) }, "h26")).toMatchObject({ RowsAccepted: 2 });
    const runs = await detectDue(rt, now);
    expect(runs.map((r) => [(r.intervalStart - T0) / HOUR, r.outcome.kind])).toEqual([[25, "processed"], [26, "processed"], [27, "processed"]]);
    expect(runs[1]).toMatchObject({ outcome: { execution: { rowsRead: 2 } } });
  });

  it("refuses rows for intervals detection went past without running them (activated before rows came), or ran so long ago that their records are gone", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    // No rows at activation: detection begins at the newest closed hour, 23.
    await detectDue(rt, now);
    const h20 = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 20 * HOUR, 1, SERIES)) }, "h20");
    expect(h20).toMatchObject({ RowsAccepted: 0, RowsRejected: 2 });
    expect(h20.Rejects[0]!.Message).toMatch(/the interval starting 2021-01-04T20:00:00.000Z was passed by detection, which has run through the interval starting 2021-01-04T23:00:00.000Z/);
    now = T0 + 25 * HOUR;
    await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "h24");
    expect((await detectDue(rt, now)).map((r) => r.outcome.kind)).toEqual(["processed"]);
    // 100 days on, hour 24's record has expired (90 days); its rows are refused all the same.
    now = T0 + 100 * 24 * HOUR;
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "later")).toMatchObject({ RowsAccepted: 0, RowsRejected: 2 });
  });

  it("refuses rows older than the intervals a catch-up reaches, which detection would pass over, and takes the rest", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    now = T0 + (24 + 2_100) * HOUR;
    const rows = [...rowsOf(shopPoints(now - 2_050 * HOUR, 1, SERIES)), ...rowsOf(shopPoints(now - 1_000 * HOUR, 1, SERIES))];
    const r = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rows }, "behind");
    expect(r).toMatchObject({ RowsAccepted: 2, RowsRejected: 2 });
    expect(r.Rejects.map((x) => x.Message)).toEqual([0, 1].map(() => expect.stringMatching(/is older than the 2000 intervals detection catches up, and would be passed over/)));
  });

  it("takes rows that many requests push for one interval at once, none waiting for another, and its run reads every one", async () => {
    let now = T0 + 25 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 25);
    now = T0 + 25 * HOUR + 30 * 60_000;
    // Fifty hosts push their row for the open hour at once, each write slow.
    let writing = 0;
    let most = 0;
    const slow = { ...rt, blobs: new Proxy(rt.blobs, {
      get: (target, key) =>
        key === "put"
          ? async (...args: Parameters<Services["blobs"]["put"]>) => {
              most = Math.max(most, ++writing);
              await new Promise((r) => setTimeout(r, 50));
              writing--;
              return target.put(...args);
            }
          : Reflect.get(target, key, target),
    }) };
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => push(slow, { MetricSetArn: metricSet.MetricSetArn, Rows: [{ timestamp: sqlTime(T0 + 25 * HOUR), platform: `host${i}`, marketplace: "de", views: 1 }] }, `host-${i}`)));
    expect(answers.map((a) => a.RowsAccepted)).toEqual(Array.from({ length: 50 }, () => 1));
    expect(most).toBeGreaterThan(10);
    now = T0 + 26 * HOUR;
    const runs = await detectDue(rt, now);
    expect(runs[0]).toMatchObject({ intervalStart: T0 + 25 * HOUR, outcome: { kind: "processed", execution: { rowsRead: 50 } } });
  });

  it("keeps a ClientToken whose request stopped before it answered no longer than an answered one (90 days)", async () => {
    let now = T0 + 30 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    const failing = { ...rt, blobs: new Proxy(rt.blobs, { get: (target, key) => (key === "put" ? async () => Promise.reject(new Error("the store is down")) : Reflect.get(target, key, target)) }) };
    const body = { MetricSetArn: metricSet.MetricSetArn, ClientToken: "stopped", Rows: rowsOf(shopPoints(T0 + 29 * HOUR, 1, SERIES)) };
    await expect(push(failing, body, "r1")).rejects.toThrow(/the store is down/);
    const key = "000000000000/shop/pushed/stopped";
    expect(await rt.records.get("pushes", key)).toBeDefined();
    now += 91 * 24 * HOUR;
    expect(await rt.records.get("pushes", key)).toBeUndefined();
  });

  it("refuses rows for a detector being deleted, and empties those written as its deletion purged it: a detector made again under the name finds none", async () => {
    const now = T0 + 25 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    await deactivateDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn);
    const rows = rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES));
    // A request found the detector standing; the whole deletion runs before its rows are written.
    const writing = beforeWrite(rt, "push-late", () => deleteDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn));
    await expect(push(writing, { MetricSetArn: metricSet.MetricSetArn, Rows: rows }, "late")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    const again = await pushedShop(() => now, rt);
    const files = await rt.blobs.list(`${metricSetRoot(rt.resultsRoot, again.metricSet)}/`);
    for (const f of files) expect(new TextDecoder().decode(await rt.blobs.get(f)).trim().split("\n")).toHaveLength(1);
    // And while it is marked for deletion, rows are refused before anything is written.
    await deactivateDetector(rt, OPERATOR, again.metricSet.AnomalyDetectorArn);
    await catalogOf(rt, OPERATOR).markDeleting(again.metricSet.AnomalyDetectorArn);
    await expect(push(rt, { MetricSetArn: again.metricSet.MetricSetArn, Rows: rows }, "deleting")).rejects.toMatchObject({ name: "ConflictException" });
  });

  it("takes rows for, and detects, the intervals a deleted detector of the same name detected: its done marks went with it", async () => {
    let now = T0 + 25 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 25);
    await deactivateDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn);
    await deleteDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn);
    const again = await pushedShop(() => now, rt);
    await push(rt, { MetricSetArn: again.metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0, 24, SERIES)) }, "history");
    expect(await push(rt, { MetricSetArn: again.metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "h24")).toMatchObject({ RowsAccepted: 2 });
    const runs = await detectDue(rt, now);
    expect(runs.map((r) => [r.intervalStart, r.outcome.kind])).toEqual([[T0 + 24 * HOUR, "processed"]]);
  });

  it("holds for each request on its own: a retry with the same ClientToken is waited for though the first request failed", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    now = T0 + 25 * HOUR;
    const body = { MetricSetArn: metricSet.MetricSetArn, ClientToken: "batch-9", Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) };
    // The retry is about to write when the first request fails, and a run begins.
    const { done: retryWriting, open: atWrite } = latch();
    const { done: written, open: letWrite } = latch();
    let retry: ReturnType<typeof push> | undefined;
    const second = beforeWrite(rt, "push-batch-9", async () => {
      atWrite();
      await written;
    });
    const first = beforeWrite(rt, "push-batch-9", async () => {
      retry = push(second, body, "req-2");
      await retryWriting;
      throw new Error("S3 SlowDown");
    });
    await expect(push(first, body, "req-1")).rejects.toThrow(/SlowDown/);
    const run = detectDue(rt, now);
    await new Promise((r) => setTimeout(r, 100));
    letWrite();
    expect(await retry!).toMatchObject({ RowsAccepted: 2 });
    expect((await run)[0]).toMatchObject({ intervalStart: T0 + 24 * HOUR, outcome: { kind: "processed", execution: { rowsRead: 2 } } });
  });

  it("refuses rows written past the hold's term, emptying their file: a run no longer waited for them", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    now = T0 + 25 * HOUR;
    const slow = beforeWrite(rt, "push-late", async () => {
      now += PUSH_HOLD_MS + 1_000;
    });
    const late = await push(slow, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "late");
    expect(late).toMatchObject({ RowsAccepted: 0, RowsRejected: 2 });
    expect(late.Rejects[0]!.Message).toMatch(/took longer than its hold/);
    expect((await detectDue(rt, now))[0]).toMatchObject({ intervalStart: T0 + 24 * HOUR, outcome: { kind: "processed", execution: { rowsRead: 0 } } });
  });

  it("keeps a run waiting only for the pushes under way when it began", async () => {
    let now = T0 + 25 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 25);
    now = T0 + 26 * HOUR + 60_000;
    // A client keeps sending rows for the hour being detected (and the open one), each write slow.
    const slow = { ...rt, blobs: new Proxy(rt.blobs, { get: (target, key) => (key === "put" ? async (...args: Parameters<Services["blobs"]["put"]>) => (await new Promise((r) => setTimeout(r, 200)), target.put(...args)) : Reflect.get(target, key, target)) }) };
    let stop = false;
    const answers: ReturnType<typeof push>[] = [];
    const client = (async () => {
      for (let i = 0; !stop; i++) {
        answers.push(push(slow, { MetricSetArn: metricSet.MetricSetArn, Rows: [{ timestamp: sqlTime(T0 + 26 * HOUR - 60_000), platform: "web", marketplace: "de", views: 1 }, { timestamp: sqlTime(T0 + 26 * HOUR + 30_000), platform: "web", marketplace: "de", views: 1 }] }, `r${i}`));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    const runs = await detectDue(rt, now);
    stop = true;
    await client;
    const all = await Promise.all(answers);
    expect(runs[0]).toMatchObject({ intervalStart: T0 + 25 * HOUR, outcome: { kind: "processed" } });
    // The run went on while later requests came (each refused for that hour once it began): it waited for none of them.
    expect(all.some((a) => a.Rejects.some((r) => /is being detected/.test(r.Message)))).toBe(true);
  }, 30_000);

  it("leaves an interval to the next invocation when a push holding it still writes after a few seconds (a request killed mid-write): the other metric sets go on", async () => {
    let now = T0 + 24 * HOUR;
    const rt = localAt(await tempDir(), () => now);
    const stuck = await pushedShop(() => now, rt);
    await push(rt, { MetricSetArn: stuck.metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0, 24, SERIES)) }, "history");
    await detectDue(rt, now);
    now = T0 + 25 * HOUR;
    // A request holds hour 24 and never writes (its process was killed).
    void push(beforeWrite(rt, "push-hung", () => new Promise(() => undefined)), { MetricSetArn: stuck.metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) }, "hung");
    await new Promise((r) => setTimeout(r, 50));
    let waited = 0;
    const timed = { ...rt, timer: { ...rt.timer, sleep: async () => void (waited += 25) }, linkClock: () => T0 + 25 * HOUR + waited };
    const runs = await detectDue(timed, now);
    expect(runs.map((r) => [(r.intervalStart - T0) / HOUR, r.outcome.kind])).toEqual([[24, "in-progress"]]);
    expect(waited).toBeLessThanOrEqual(5_025);
    // Its record awaits a run again, and its lease is free.
    expect(await rt.records.get("executions", `000000000000/shop/pushed/${T0 + 24 * HOUR}`)).toMatchObject({ Status: "PENDING" });
    expect(await rt.records.get("leases", `000000000000/shop/pushed/${T0 + 24 * HOUR}`)).toBeUndefined();
  });

  it("takes back what a request wrote when it fails part-way: its retry's rows are read once", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    now = T0 + 26 * HOUR - 60_000;
    const body = { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 2, SERIES)) };
    let puts = 0;
    const flaky = { ...rt, blobs: new Proxy(rt.blobs, { get: (target, key) => (key === "put" ? async (...args: Parameters<Services["blobs"]["put"]>) => { if (args[0].includes("push-") && ++puts === 2) throw new Error("SlowDown"); return target.put(...args); } : Reflect.get(target, key, target)) }) };
    await expect(push(flaky, body, "req-1")).rejects.toThrow(/SlowDown/);
    expect(await push(rt, body, "req-2")).toMatchObject({ RowsAccepted: 4 });
    now = T0 + 26 * HOUR;
    expect((await detectDue(rt, now))[0]).toMatchObject({ intervalStart: T0 + 24 * HOUR, outcome: { execution: { rowsRead: 2 } } });
  });

  it("takes back what a request wrote when keeping its rejected rows fails: its retry's rows are read once", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    now = T0 + 25 * HOUR - 60_000;
    const body = { MetricSetArn: metricSet.MetricSetArn, Rows: [...rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)), { timestamp: "yesterday", platform: "web", marketplace: "de", views: 1 }] };
    const flaky = { ...rt, blobs: new Proxy(rt.blobs, { get: (target, key) => (key === "put" ? async (...args: Parameters<Services["blobs"]["put"]>) => { if (args[0].includes("pushed-rejects")) throw new Error("SlowDown"); return target.put(...args); } : Reflect.get(target, key, target)) }) };
    await expect(push(flaky, body, "req-1")).rejects.toThrow(/SlowDown/);
    expect(await push(rt, body, "req-2")).toMatchObject({ RowsAccepted: 2, RowsRejected: 1, RejectsFile: expect.stringMatching(/req-2\.jsonl$/) });
    now = T0 + 25 * HOUR;
    expect((await detectDue(rt, now))[0]).toMatchObject({ intervalStart: T0 + 24 * HOUR, outcome: { execution: { rowsRead: 2 } } });
  });

  it("leaves the rows of a request with a ClientToken that fails after writing: its retry, writing the same file meanwhile, is read", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    now = T0 + 25 * HOUR - 60_000;
    const body = { MetricSetArn: metricSet.MetricSetArn, ClientToken: "batch-3", Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) };
    let retried: Awaited<ReturnType<typeof push>> | undefined;
    let failNow = false;
    const first = { ...rt,
      blobs: new Proxy(rt.blobs, { get: (target, key) => (key === "put" ? async (...args: Parameters<Services["blobs"]["put"]>) => {
        await target.put(...args);
        if (args[0].includes("push-batch-3") && !retried) {
          retried = await push(rt, body, "req-2");
          failNow = true;
        }
      } : Reflect.get(target, key, target)) }),
      records: new Proxy(rt.records, { get: (target, key) => (key === "get" ? async (...args: Parameters<Services["records"]["get"]>) => { if (failNow) throw new Error("throttled"); return target.get(...args); } : Reflect.get(target, key, target)) }),
    };
    await expect(push(first, body, "req-1")).rejects.toThrow(/throttled/);
    expect(retried).toMatchObject({ RowsAccepted: 2 });
    now = T0 + 25 * HOUR;
    expect((await detectDue(rt, now))[0]).toMatchObject({ intervalStart: T0 + 24 * HOUR, outcome: { execution: { rowsRead: 2 } } });
  });

  it("answers a retry as taken when its earlier attempt wrote the rows, stopped before answering, and the interval's run read them", async () => {
    let now = T0 + 24 * HOUR;
    const { rt, metricSet } = await detectedShop(() => now, 24);
    now = T0 + 25 * HOUR - 60_000;
    const body = { MetricSetArn: metricSet.MetricSetArn, ClientToken: "batch-1", Rows: rowsOf(shopPoints(T0 + 24 * HOUR, 1, SERIES)) };
    // Its answer could not be kept (a throttled write): the request failed after writing its rows.
    const throttled = { ...rt, records: new Proxy(rt.records, { get: (target, key) => (key === "put" ? async (...args: Parameters<Services["records"]["put"]>) => { if (args[0] === "pushes") throw new Error("ProvisionedThroughputExceeded"); return target.put(...args); } : Reflect.get(target, key, target)) }) };
    await expect(push(throttled, body, "req-1")).rejects.toThrow(/ProvisionedThroughputExceeded/);
    now = T0 + 25 * HOUR + 60_000;
    expect((await detectDue(rt, now))[0]).toMatchObject({ intervalStart: T0 + 24 * HOUR, outcome: { execution: { rowsRead: 2 } } });
    expect(await push(rt, body, "req-2")).toMatchObject({ RowsAccepted: 2, RowsRejected: 0 });
    // And the answer is kept now: asked again, the same.
    expect(await push(rt, body, "req-3")).toMatchObject({ RowsAccepted: 2, RowsRejected: 0 });
  });

  it("answers a retried request with the same ClientToken and rows as the first, adding no rows", async () => {
    const now = T0 + 30 * HOUR;
    const { rt, metricSet, dir } = await pushedShop(() => now);
    const body = { MetricSetArn: metricSet.MetricSetArn, ClientToken: "batch-7", Rows: rowsOf(shopPoints(T0 + 29 * HOUR, 1, SERIES)) };
    const first = await push(rt, body, "req-1");
    expect(await push(rt, body, "req-2")).toEqual(first);
    const files = await rt.blobs.list(join(dir, "results", "000000000000", "shop", "pushed", "ingested"));
    expect(files.map((f) => f.slice(f.lastIndexOf("/") + 1))).toEqual(["push-batch-7.csv"]);
  });

  it("refuses a metric set that does not take pushed rows, and an unknown one, writing nothing", async () => {
    const now = T0;
    const { rt, metricSet, dir } = await pushedShop(() => now);
    await expect(push(rt, { MetricSetArn: `${metricSet.MetricSetArn}x`, Rows: [{}] }, "r")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: [] }, "r")).rejects.toMatchObject({ name: "ValidationException", fields: [{ Name: "Rows" }] });
    expect(await rt.blobs.list(join(dir, "results"))).toEqual([]);
  });
});

describe("PutMetricRows while the metric set's history is learned", () => {
  /** The services, with `during` run once, as the history's learning first spills what it read (it has read the files). */
  const duringSpill = (rt: Services, during: () => Promise<void>): Services => {
    let done = false;
    const blobs = new Proxy(rt.blobs, {
      get: (target, key) =>
        key === "put"
          ? async (...args: Parameters<Services["blobs"]["put"]>) => {
              if (!done && args[0].includes("/spill/")) {
                done = true;
                await during();
              }
              return target.put(...args);
            }
          : Reflect.get(target, key, target),
    });
    return { ...rt, blobs };
  };

  it("refuses rows for an interval the history covers once the learning has begun: it may have read that interval already", async () => {
    const now = T0 + 25 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0, 24, SERIES)) }, "history");
    let late: unknown;
    await detectDue(
      duringSpill(rt, async () => {
        late = await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 10 * HOUR, 1, SERIES)) }, "late");
      }),
      now,
    );
    const learning = { Reason: "OUTSIDE_INTERVAL", Message: expect.stringMatching(/history, which is being learned/) };
    expect(late).toMatchObject({ RowsAccepted: 0, RowsRejected: 2, Rejects: [learning, learning] });
    // Once it is learned, they are refused as for any interval detection has gone past, and rows for the open hour are taken.
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 10 * HOUR, 1, SERIES)) }, "later")).toMatchObject({ RowsAccepted: 0, Rejects: [{ Message: expect.stringMatching(/was passed by detection/) }, {}] });
    expect(await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 25 * HOUR, 1, SERIES)) }, "open")).toMatchObject({ RowsAccepted: 2 });
  });

  it("is waited for by a learning that begins while it writes: the rows it was told were taken are learned", async () => {
    const now = T0 + 25 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    await push(rt, { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0, 24, SERIES)) }, "history");
    const order: string[] = [];
    const writing = latch();
    const held = latch();
    // A request for an hour of the history is judged, holds it, and writes slowly; the learning begins meanwhile.
    const pushing = push(
      beforeWrite(rt, "push-slow", async () => {
        held.open();
        await writing.done;
      }),
      { MetricSetArn: metricSet.MetricSetArn, Rows: rowsOf(shopPoints(T0 + 10 * HOUR, 1, SERIES)) },
      "slow",
    ).then((answer) => (order.push("pushed"), answer));
    await held.done;
    setTimeout(writing.open, 300);
    await detectDue(duringSpill(rt, async () => void order.push("learned")), now);
    expect(await pushing).toMatchObject({ RowsAccepted: 2 });
    expect(order).toEqual(["pushed", "learned"]);
  });
});

describe("PutMetricRows with a ClientToken as its detector is deleted", () => {
  it("leaves no answer under the token once the deletion purged the metric set: the same request to one made again under the name writes its rows", async () => {
    const now = T0 + 25 * HOUR;
    const { rt, metricSet } = await pushedShop(() => now);
    // The request has written its rows and found the detector standing; the whole deletion runs as it records its answer under its token.
    let purged = false;
    const records = new Proxy(rt.records, {
      get: (target, key) =>
        key === "put"
          ? async (...args: Parameters<Services["records"]["put"]>) => {
              if (!purged && args[0] === "pushes") {
                purged = true;
                await deactivateDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn);
                await deleteDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn);
              }
              return target.put(...args);
            }
          : Reflect.get(target, key, target),
    });
    const body = { MetricSetArn: metricSet.MetricSetArn, ClientToken: "batch-0001", Rows: rowsOf(shopPoints(T0, 24, SERIES)) };
    await expect(push({ ...rt, records }, body, "r1")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(await rt.records.list("pushes")).toEqual([]);
    const again = await pushedShop(() => now, rt);
    expect(await push(rt, body, "r2")).toMatchObject({ RowsAccepted: 48 });
    const files = await rt.blobs.list(`${metricSetRoot(rt.resultsRoot, again.metricSet)}/`);
    const rows = await Promise.all(files.map(async (f) => new TextDecoder().decode(await rt.blobs.get(f)).trim().split("\n").length - 1));
    expect(rows.reduce((a, b) => a + b, 0)).toBe(48);
  });
});
