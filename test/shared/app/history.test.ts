import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupTimeSeries, seriesHistory } from "../../../shared/app/index.ts";
import { seriesHash } from "../../../shared/app/history.ts";
import { BYTES_PER_POINT, encodeSeriesPoints, keyHash, seriesHistoryUri, type KeptPoint } from "../../../shared/detect/series-points.ts";
import { decodeSeriesPoints } from "../../../shared/detect/series-points-read.ts";
import { intervalUri, metricSetRoot } from "../../../shared/detect/results.ts";
import { ResourceNotFoundException, ValidationException } from "../../../shared/model/errors.ts";
import { HOUR } from "../../builders.ts";
import { DIP, LIVE, shop } from "./shop.ts";

const f32 = (x: number) => Math.fround(x);
const point = fc.record({
  key: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  actual: fc.double({ noNaN: true, min: -1e12, max: 1e12 }),
  expected: fc.float({ noNaN: true, noDefaultInfinity: true }),
  lower: fc.float({ noNaN: true, noDefaultInfinity: true }),
  upper: fc.float({ noNaN: true, noDefaultInfinity: true }),
  kind: fc.constantFrom("ANOMALY" as const, "BELOW_FLOOR" as const, "LEARNED" as const),
  score: fc.integer({ min: 0, max: 10000 }).map((x) => x / 100),
}).map((p): KeptPoint => (p.kind === "ANOMALY" ? p : { ...p, score: NaN }));

describe("series.bin: every series' value and band per interval, and its anomalies' scores", () => {
  it("round-trips each series asked for, at float32 precision for the band and exactly for the value and score", () => {
    fc.assert(
      fc.property(fc.uniqueArray(point, { selector: (p) => p.key, maxLength: 60 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (points, absent) => {
        const bytes = encodeSeriesPoints(points);
        expect(bytes.byteLength).toBe(8 + BYTES_PER_POINT * points.length);
        // Read from an odd offset, as a buffer from a pool may be.
        const shifted = new Uint8Array(bytes.byteLength + 1);
        shifted.set(bytes, 1);
        const read = decodeSeriesPoints(shifted.subarray(1), [...points.map((p) => p.key), absent]);
        expect(read.size).toBe(points.length + (points.some((p) => p.key === absent) ? 0 : 0));
        for (const p of points) {
          const got = read.get(p.key)!;
          expect(got.actual).toBe(p.actual);
          expect([got.expected, got.lower, got.upper, got.kind]).toEqual([f32(p.expected), f32(p.lower), f32(p.upper), p.kind]);
          if (p.kind === "ANOMALY") expect(got.score).toBe(p.score);
          else expect(got.score).toBeNaN();
        }
      }),
    );
  });

  it("refuses a file that is not one", () => {
    expect(() => decodeSeriesPoints(new TextEncoder().encode("not a series file"), [])).toThrow("not a series history file");
    const good = encodeSeriesPoints([{ key: 7, actual: 1, expected: 1, lower: 0, upper: 2, kind: "ANOMALY", score: 3 }]);
    expect(() => decodeSeriesPoints(good.subarray(0, good.byteLength - 1), [])).toThrow("wrong length");
  });

  it("hashes keys to 53 bits, apart for the keys of a large metric set", () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => keyHash(`revenue\u001em${i % 1000}\u001fp${Math.floor(i / 1000)}`));
    expect(keys.every((k) => Number.isSafeInteger(k) && k >= 0)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("is written by detection for every series each live interval, and for the last 24 learned intervals without a score", async () => {
    const s = await shop(8);
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const de = seriesHash(s.metricSet, { measure: "views", dimensions: { platform: "web", marketplace: "de" } });
    // The three series × two measures, each live interval: anomalies with their score, the others below the floor.
    for (let h = 0; h < 8; h++) {
      const bytes = (await s.services.blobs.get(seriesHistoryUri(root, LIVE + h * HOUR)))!;
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(6);
      const p = decodeSeriesPoints(bytes, [de]).get(de)!;
      expect(p.lower).toBeLessThan(p.expected);
      expect(p.upper).toBeGreaterThan(p.expected);
      if (DIP.includes(LIVE + h * HOUR)) expect([p.kind, p.score >= 60, p.actual < p.lower]).toEqual(["ANOMALY", true, true]);
      else expect([p.kind, p.score]).toEqual(["BELOW_FLOOR", NaN]);
    }
    // Learned from history: band, no score; before the 24th last learned interval, nothing.
    const learned = decodeSeriesPoints((await s.services.blobs.get(seriesHistoryUri(root, LIVE - HOUR)))!, [de]).get(de)!;
    expect(learned.kind).toBe("LEARNED");
    expect(learned.upper).toBeGreaterThan(learned.lower);
    expect(await s.services.blobs.get(seriesHistoryUri(root, LIVE - 25 * HOUR))).toBeUndefined();
    expect(seriesHistoryUri(root, LIVE)).toBe(`${intervalUri(root, LIVE)}/series.bin`);
  });

  it("gives each series of a group its band for the 24 intervals before it and through it", async () => {
    const s = await shop(8);
    const ts = await groupTimeSeries(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views" }, (ids) => ids);
    const de = ts.series.find((x) => x.id === s.deViews)!;
    expect(ts.starts).toHaveLength(24 + 2);
    expect(de.band.every((p) => p !== undefined)).toBe(true);
    // The values are those detection kept (history's too, which have no interval files).
    expect(de.band.map((p) => p!.actual)).toEqual(de.values);
    expect(de.values.every((v) => v !== null)).toBe(true);
    // Where nothing is kept, the interval files are read again: the same values, no band.
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    for (let h = 0; h < 8; h++) await s.services.blobs.put(seriesHistoryUri(root, LIVE + h * HOUR), encodeSeriesPoints([]));
    const again = (await groupTimeSeries(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views" }, (ids) => ids)).series.find((x) => x.id === s.deViews)!;
    expect(again.values).toEqual(de.values);
    // A measure named as every object's own member is not in the group.
    await expect(groupTimeSeries(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "constructor" }, (ids) => ids)).rejects.toBeInstanceOf(ResourceNotFoundException);
    const live = ts.starts.indexOf(LIVE);
    expect(again.band.slice(live).every((p) => p === undefined)).toBe(true);
    expect(again.band.slice(0, live).every((p) => p !== undefined)).toBe(true);
    const onset = ts.starts.indexOf(DIP[0]!);
    expect(de.values[onset]!).toBeLessThan(de.band[onset]!.lower);
    expect(de.band[onset]!.score).toBeGreaterThanOrEqual(60);
    // The incident is at live hour 4: the four intervals before it were scored, the 20 before those learned.
    expect(de.band.slice(onset - 4, onset).map((p) => p!.kind)).toEqual(Array(4).fill("BELOW_FLOOR"));
    expect(de.band.slice(0, onset - 4).every((p) => p!.kind === "LEARNED")).toBe(true);
  });

  it("answers a series' history over a range, by its id or its measure and dimensions, and refuses a range too long or backwards", async () => {
    const s = await shop(8);
    const ask = (series: Parameters<typeof seriesHistory>[2]["series"], from = LIVE - 30 * HOUR, to = LIVE + 10 * HOUR) => seriesHistory(s.services, s.scope, { MetricSetArn: s.metricSet.MetricSetArn, series, StartTime: from, EndTime: to });
    const h = await ask({ TimeSeriesId: s.deViews });
    expect(h.series).toEqual({ id: s.deViews, measure: "views", dimensions: { platform: "web", marketplace: "de" } });
    expect(h.starts).toHaveLength(41);
    const known = h.points.map((p) => p !== undefined);
    // 24 learned + 8 live intervals kept; none before, none after the last run.
    expect(known.indexOf(true)).toBe(6);
    expect(known.lastIndexOf(true)).toBe(37);
    expect(known.filter(Boolean)).toHaveLength(32);
    // A series never in a group, by its measure and dimension values.
    const fr = await ask({ MetricName: "revenue", Dimensions: { platform: "app", marketplace: "fr" } });
    expect(fr.points.filter((p) => p !== undefined)).toHaveLength(32);
    expect(fr.points.every((p) => p === undefined || p.kind !== "ANOMALY")).toBe(true);
    await expect(ask({ TimeSeriesId: "f".repeat(128) })).rejects.toBeInstanceOf(ResourceNotFoundException);
    // A name every object holds is no series either.
    await expect(ask({ TimeSeriesId: "constructor" })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(ask({ MetricName: "clicks", Dimensions: {} })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(ask({ TimeSeriesId: s.deViews }, LIVE, LIVE + 1000 * HOUR)).rejects.toThrow(/at most 1000/);
    await expect(ask({ TimeSeriesId: s.deViews }, LIVE, LIVE - HOUR)).rejects.toBeInstanceOf(ValidationException);
  });

  it("reads a series' history from large files a few small ranges at a time, never a whole file", async () => {
    const s = await shop(8);
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const de = seriesHash(s.metricSet, { measure: "views", dimensions: { platform: "web", marketplace: "de" } });
    // Each of 48 hours a file of 100,001 series (3 MB), the asked one among them with the hour as its value.
    const others = Array.from({ length: 100_000 }, (_, i) => keyHash(`views\u001eother-${i}`));
    const starts = Array.from({ length: 48 }, (_, h) => LIVE - 46 * HOUR + h * HOUR);
    for (const [h, t] of starts.entries()) {
      const points = [de, ...others].map((key, i): KeptPoint => ({ key, actual: i === 0 ? h : -1, expected: 0, lower: -1, upper: 1, kind: "BELOW_FLOOR", score: NaN }));
      await s.services.blobs.put(seriesHistoryUri(root, t), encodeSeriesPoints(points));
    }
    const read = { whole: 0, largest: 0, bytes: 0 };
    const blobs = s.services.blobs;
    const counted = {
      ...s.services,
      blobs: {
        put: blobs.put.bind(blobs),
        list: blobs.list.bind(blobs),
        deleteFolder: blobs.deleteFolder.bind(blobs),
        get: async (uri: string) => {
          const bytes = await blobs.get(uri);
          if (uri.endsWith("series.bin")) read.whole++;
          return bytes;
        },
        getRange: async (uri: string, offset: number, length: number) => {
          const got = await blobs.getRange(uri, offset, length);
          read.largest = Math.max(read.largest, got?.bytes.byteLength ?? 0);
          read.bytes += got?.bytes.byteLength ?? 0;
          return got;
        },
        read: async (uri: string) => {
          if (uri.endsWith("series.bin")) read.whole++;
          return blobs.read(uri);
        },
      },
    };
    const h = await seriesHistory(counted, s.scope, { MetricSetArn: s.metricSet.MetricSetArn, series: { MetricName: "views", Dimensions: { platform: "web", marketplace: "de" } }, StartTime: starts[0]!, EndTime: starts[47]! });
    expect(h.points.map((p) => p?.actual)).toEqual(starts.map((_, i) => i));
    expect(read.whole).toBe(0);
    expect(read.largest).toBeLessThanOrEqual(64 * 1024);
    // 48 files of 3 MB: about 80 KB each (the head and a window of keys), not 144 MB.
    expect(read.bytes).toBeLessThan(48 * 100_000);
  });
});
