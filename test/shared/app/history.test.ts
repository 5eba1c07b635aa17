import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupTimeSeries, seriesHistory } from "../../../shared/app/index.ts";
import { BYTES_PER_POINT, decodeSeriesPoints, encodeSeriesPoints, seriesHistoryUri, type KeptPoint } from "../../../shared/app/history.ts";
import { intervalUri, metricSetRoot } from "../../../shared/detect/results.ts";
import { ValidationException } from "../../../shared/model/errors.ts";
import { HOUR } from "../../builders.ts";
import { DIP, LIVE, shop } from "./shop.ts";

const hexId = fc.stringMatching(/^[0-9a-f]{128}$/);
const f32 = (x: number) => Math.fround(x);

describe("series.bin: every series' value, band and score per interval", () => {
  it("round-trips each series asked for, at float32 precision for the band and exactly for the value", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ timeSeriesId: hexId, actual: fc.double({ noNaN: true, min: -1e12, max: 1e12 }), expected: fc.float({ noNaN: true, noDefaultInfinity: true }), lower: fc.float({ noNaN: true, noDefaultInfinity: true }), upper: fc.float({ noNaN: true, noDefaultInfinity: true }), score: fc.oneof(fc.constant(NaN), fc.integer({ min: 0, max: 10000 }).map((x) => x / 100)) }), { selector: (p) => p.timeSeriesId.slice(0, 16), maxLength: 40 }),
        hexId,
        (points: KeptPoint[], absent) => {
          const bytes = encodeSeriesPoints(points);
          expect(bytes.byteLength).toBe(8 + BYTES_PER_POINT * points.length);
          const wanted = [...points.map((p) => p.timeSeriesId), ...(points.some((p) => p.timeSeriesId.slice(0, 16) === absent.slice(0, 16)) ? [] : [absent])];
          // Read from an odd offset, as a buffer from a pool may be.
          const shifted = new Uint8Array(bytes.byteLength + 1);
          shifted.set(bytes, 1);
          const read = decodeSeriesPoints(shifted.subarray(1), wanted);
          expect(read.size).toBe(points.length);
          for (const p of points) {
            const got = read.get(p.timeSeriesId)!;
            expect(got.actual).toBe(p.actual);
            expect([got.expected, got.lower, got.upper]).toEqual([f32(p.expected), f32(p.lower), f32(p.upper)]);
            if (Number.isNaN(p.score)) expect(got.score).toBeNaN();
            else expect(got.score).toBe(p.score);
          }
        },
      ),
    );
  });

  it("refuses a file that is not one", () => {
    expect(() => decodeSeriesPoints(new TextEncoder().encode("not a series file"), [])).toThrow("not a series history file");
    const good = encodeSeriesPoints([{ timeSeriesId: "a".repeat(128), actual: 1, expected: 1, lower: 0, upper: 2, score: 3 }]);
    expect(() => decodeSeriesPoints(good.subarray(0, good.byteLength - 1), [])).toThrow("wrong length");
  });

  it("is written by detection for every series each live interval, and for the last 24 learned intervals without a score", async () => {
    const s = await shop(8);
    const root = metricSetRoot(s.services.resultsRoot, s.metricSet);
    const ids = Object.keys(s.group.impacts["views"]!.series);
    // The three series × two measures, each live interval, scored.
    for (let h = 0; h < 8; h++) {
      const bytes = (await s.services.blobs.get(seriesHistoryUri(root, LIVE + h * HOUR)))!;
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(6);
      const p = decodeSeriesPoints(bytes, [s.deViews]).get(s.deViews)!;
      expect(p.score).toBeGreaterThanOrEqual(0);
      expect(p.lower).toBeLessThan(p.expected);
      expect(p.upper).toBeGreaterThan(p.expected);
      if (DIP.includes(LIVE + h * HOUR)) expect(p.score).toBeGreaterThanOrEqual(60);
      if (h === 0) expect(p.score).toBeLessThan(60);
    }
    // Learned from history: band, no score; before the 24th last learned interval, nothing.
    const learned = decodeSeriesPoints((await s.services.blobs.get(seriesHistoryUri(root, LIVE - HOUR)))!, ids);
    expect(learned.size).toBe(ids.length);
    expect(learned.get(s.deViews)!.score).toBeNaN();
    expect(learned.get(s.deViews)!.upper).toBeGreaterThan(learned.get(s.deViews)!.lower);
    expect(await s.services.blobs.get(seriesHistoryUri(root, LIVE - 25 * HOUR))).toBeUndefined();
    expect(seriesHistoryUri(root, LIVE)).toBe(`${intervalUri(root, LIVE)}/series.bin`);
  });

  it("gives each series of a group its band and score for the 24 intervals before it and through it", async () => {
    const s = await shop(8);
    const ts = await groupTimeSeries(s.services, s.scope, { AnomalyDetectorArn: s.detectorArn, AnomalyGroupId: s.group.AnomalyGroupId, MetricName: "views" }, (ids) => ids);
    const de = ts.series.find((x) => x.id === s.deViews)!;
    expect(ts.starts).toHaveLength(24 + 2);
    expect(de.band.every((p) => p !== undefined)).toBe(true);
    // The values detection kept are the values read again from the files (and stand in for history's, which have no interval files).
    expect(de.band.map((p) => p!.actual)).toEqual(de.values);
    expect(de.values.every((v) => v !== null)).toBe(true);
    const onset = ts.starts.indexOf(DIP[0]!);
    expect(de.values[onset]!).toBeLessThan(de.band[onset]!.lower);
    expect(de.band[onset]!.score).toBeGreaterThanOrEqual(60);
    // The incident is at live hour 4: the four intervals before it were scored, the 20 before those learned.
    expect(de.band.slice(onset - 4, onset).every((p) => p!.score < 60)).toBe(true);
    expect(de.band.slice(0, onset - 4).every((p) => Number.isNaN(p!.score))).toBe(true);
  });

  it("answers a series' history over a range, and refuses a range too long or backwards", async () => {
    const s = await shop(8);
    const h = await seriesHistory(s.services, s.scope, { MetricSetArn: s.metricSet.MetricSetArn, TimeSeriesId: s.deViews, StartTime: LIVE - 30 * HOUR, EndTime: LIVE + 10 * HOUR });
    expect(h.measure).toBe("views");
    expect(h.dimensions).toEqual({ platform: "web", marketplace: "de" });
    expect(h.starts).toHaveLength(41);
    const known = h.points.map((p) => p !== undefined);
    // 24 learned + 8 live intervals kept; none before, none after the last run.
    expect(known.indexOf(true)).toBe(6);
    expect(known.lastIndexOf(true)).toBe(37);
    expect(known.filter(Boolean)).toHaveLength(32);
    await expect(seriesHistory(s.services, s.scope, { MetricSetArn: s.metricSet.MetricSetArn, TimeSeriesId: s.deViews, StartTime: LIVE, EndTime: LIVE + 1000 * HOUR })).rejects.toThrow(/at most 1000/);
    await expect(seriesHistory(s.services, s.scope, { MetricSetArn: s.metricSet.MetricSetArn, TimeSeriesId: s.deViews, StartTime: LIVE, EndTime: LIVE - HOUR })).rejects.toBeInstanceOf(ValidationException);
  });
});
