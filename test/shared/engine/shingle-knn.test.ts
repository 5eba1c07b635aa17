import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ShingleKnn } from "../../../shared/engine/shingle-knn.ts";

/** Deterministic noise around a level. */
const noise = (i: number) => 100 + ((i * 7919) % 23) - 11;

describe("ShingleKnn", () => {
  it("scores a shape not seen in recent history near 1, and ordinary noise below", () => {
    const knn = new ShingleKnn();
    const scores: number[] = [];
    for (let i = 0; i < 2500; i++) scores.push(knn.next(i >= 2400 && i < 2405 ? 400 : noise(i)));
    expect(Math.max(...scores.slice(2400, 2410))).toBeGreaterThanOrEqual(0.9995);
    expect(scores.slice(900, 2400).filter((s) => s >= 0.9995).length).toBeLessThanOrEqual(3);
    expect(scores.slice(0, 450).every((s) => s === 0)).toBe(true); // still calibrating
    expect(scores.slice(460, 470).some((s) => s > 0)).toBe(true);
  });

  it("gives a finite score in [0, 1] for any input, and the same one for the same past", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0, 1e300)), { minLength: 1, maxLength: 900 }), (xs) => {
        const [a, b] = [new ShingleKnn(), new ShingleKnn()];
        for (const x of xs) {
          const s = a.next(x);
          expect(s).toBeGreaterThanOrEqual(0);
          expect(s).toBeLessThanOrEqual(1);
          expect(b.next(x)).toBe(s);
        }
      }),
      { numRuns: 30 },
    );
  });
});
