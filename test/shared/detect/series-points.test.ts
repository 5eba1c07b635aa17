import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SeriesBank } from "../../../shared/engine/bank.ts";
import { bankKey, scoreInterval } from "../../../shared/detect/score-interval.ts";
import { encodeKeptPoints, encodeSeriesPoints, keptPointsOf, keyOrder, mergeSeriesPoints, type KeptPoint } from "../../../shared/detect/series-points.ts";
import { decodeSeriesPoints } from "../../../shared/detect/series-points-read.ts";
import { type SeriesCell } from "../../../shared/ingest/aggregate.ts";
import { seriesKeyOf } from "../../../shared/ingest/series-key.ts";
import type { MetricSetArn } from "../../../shared/model/ids.ts";

const point = (key: number, i: number): KeptPoint => ({ key, actual: i, expected: i / 2, lower: i / 4, upper: i, kind: i % 3 === 0 ? "ANOMALY" : i % 3 === 1 ? "BELOW_FLOOR" : "LEARNED", score: i % 3 === 0 ? i % 100 : NaN });

describe("series points", () => {
  it("merges the shards' parts into the file one encode of all their points writes (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 2 ** 53 - 1 }), { maxLength: 200 }), fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 40 }), (keys, owners) => {
        const points = keys.map(point);
        // Point i goes to the part owners[i mod n] names.
        const parts = [...new Set(owners)].map((o) => points.filter((_, i) => owners[i % owners.length] === o));
        expect(mergeSeriesPoints(parts.map(encodeSeriesPoints))).toEqual(encodeSeriesPoints(points));
        // Parts that do not start 8-byte aligned (cut from a queued shard result) merge the same.
        const unaligned = parts.map((p) => Buffer.concat([Buffer.alloc(1), encodeSeriesPoints(p)]).subarray(1));
        expect(Buffer.from(mergeSeriesPoints(unaligned)).equals(Buffer.from(encodeSeriesPoints(points)))).toBe(true);
      }),
    );
  });

  it("finds a series' point by its key in the merged file", () => {
    const points = [5, 1, 9, 3, 7].map(point);
    const merged = mergeSeriesPoints([encodeSeriesPoints(points.slice(0, 2)), encodeSeriesPoints([]), encodeSeriesPoints(points.slice(2))]);
    const found = decodeSeriesPoints(merged, [9, 4]);
    expect([...found.keys()]).toEqual([9]);
    expect(found.get(9)).toMatchObject({ actual: 2, kind: "LEARNED" });
  });
  it("writes a shard's kept points from the bank's rings as the points read one by one would be written", () => {
    const HOUR = 3_600_000;
    const metricSet = { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/d/m" as MetricSetArn, MetricList: [{ MetricName: "v", AggregationFunction: "SUM" as const }], DimensionList: ["market"] };
    const bank = new SeriesBank(HOUR);
    const markets = Array.from({ length: 60 }, (_, i) => `m${i}`);
    // Every third market skips the last hours (no point kept); one jumps at the end (an anomaly, kept with its own band and score).
    const skips = (i: number, t: number) => i % 3 === 0 && t > 200 * HOUR;
    const walk = (t: number) => ({
      size: markets.filter((_, i) => !skips(i, t)).length,
      forEach: (visit: (cell: SeriesCell, key: string) => void) =>
        markets.forEach((m, i) => (skips(i, t) ? undefined : visit({ dimensions: [m], sums: [i === 7 && t === 240 * HOUR ? 5000 : 100 + (i % 5) + ((t / HOUR) % 24)], counts: [1] }, seriesKeyOf([m])))),
    });
    for (let h = 0; h < 240; h++) scoreInterval(bank, metricSet, walk(h * HOUR), h * HOUR);
    const slots: number[] = [];
    const found = scoreInterval(bank, metricSet, walk(240 * HOUR), 240 * HOUR, { slots });
    expect(found.map((a) => bankKey(a.measure, seriesKeyOf([a.dimensions.market!])))).toContain(bankKey("v", "m7"));
    // A slot whose ring no longer holds the interval is skipped alike.
    slots.push(bank.slot(bankKey("v", "m0")));
    const kept = keptPointsOf(bank, metricSet, slots, 240 * HOUR, found);
    expect(kept.length).toBe(40);
    expect(Buffer.from(encodeKeptPoints(bank, metricSet, slots, 240 * HOUR, found)).equals(Buffer.from(encodeSeriesPoints(kept)))).toBe(true);
  });
  it("orders points by key as a stable sort does, keys crowded together or repeated included (property)", () => {
    const key = fc.oneof(fc.nat({ max: 2 ** 53 - 1 }), fc.nat({ max: 40 }), fc.constantFrom(2 ** 53 - 1, 2 ** 52));
    fc.assert(
      fc.property(fc.array(key, { maxLength: 300 }), (list) => {
        const keys = Float64Array.from(list);
        const sorted = Array.from(list.keys()).sort((a, b) => keys[a]! - keys[b]!);
        expect([...keyOrder(keys, keys.length)]).toEqual(sorted);
      }),
    );
    // Thousands of keys in one bucket: the same order, without quadratic insertion.
    const crowded = Float64Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000);
    expect([...keyOrder(crowded, crowded.length)]).toEqual(Array.from(crowded.keys()).sort((a, b) => crowded[a]! - crowded[b]!));
  });
});
