import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StreamScorer } from "../../../shared/engine/stream.ts";

const FIVE_MIN = 300_000;
const DAY = 288;
/** Deterministic noise around a level, not seasonal. */
const noise = (i: number) => 50 + ((i * 7919) % 13) - 6;

describe("StreamScorer", () => {
  it("reports nothing while the engine learns its cycles, then an outlier once warm", () => {
    const stream = new StreamScorer(FIVE_MIN); // warm after two days
    const scores = Array.from({ length: 1000 }, (_, i) => stream.next(i * FIVE_MIN, i >= 800 && i < 806 ? 500 : noise(i)));
    expect(scores.slice(0, 2 * DAY).every((s) => s === 0)).toBe(true);
    expect(Math.max(...scores.slice(800, 806))).toBeGreaterThan(0.7);
    expect(scores.slice(2 * DAY, 800).filter((s) => s > 0.7)).toEqual([]);
  });

  it("gives a score in [0, 1] for any values, gaps included, and the same for the same past (property)", () => {
    const value = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0, 1e300));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 800 }), (xs) => {
        const [a, b] = [new StreamScorer(FIVE_MIN), new StreamScorer(FIVE_MIN)];
        xs.forEach((x, i) => {
          const s = a.next(i * FIVE_MIN, x);
          expect(s >= 0 && s <= 1).toBe(true);
          expect(b.next(i * FIVE_MIN, x)).toBe(s);
        });
      }),
      { numRuns: 25 },
    );
  });
});
