import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSeriesPoints, encodeSeriesPoints, mergeSeriesPoints, type KeptPoint } from "../../../shared/detect/series-points.ts";

const point = (key: number, i: number): KeptPoint => ({ key, actual: i, expected: i / 2, lower: i / 4, upper: i, kind: i % 3 === 0 ? "ANOMALY" : i % 3 === 1 ? "BELOW_FLOOR" : "LEARNED", score: i % 3 === 0 ? i % 100 : NaN });

describe("series points", () => {
  it("merges the shards' parts into the file one encode of all their points writes (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 2 ** 53 - 1 }), { maxLength: 200 }), fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 40 }), (keys, owners) => {
        const points = keys.map(point);
        // Point i goes to the part owners[i mod n] names.
        const parts = [...new Set(owners)].map((o) => points.filter((_, i) => owners[i % owners.length] === o));
        expect(mergeSeriesPoints(parts.map(encodeSeriesPoints))).toEqual(encodeSeriesPoints(points));
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
});
