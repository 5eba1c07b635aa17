import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventScorer } from "../../../shared/engine/event-score.ts";

/** Deterministic residuals of ordinary size, ±1.5. */
const ordinary = (i: number) => (((i * 7919) % 31) / 10 - 1.5);

describe("event score", () => {
  it("reports an incident once, at its onset, and then stays quiet while it lasts", () => {
    const events = new EventScorer();
    for (let i = 0; i < 500; i++) events.next(ordinary(i), true);
    const during = Array.from({ length: 20 }, () => events.next(12, true));
    expect(during.filter((s) => s > 0.7)).toHaveLength(1);
    expect(during.slice(during.findIndex((s) => s > 0.7) + 1).every((s) => s === 0)).toBe(true);
  });

  it("judges a burst against the series' own history: ordinary bursts of a bursty series score low", () => {
    const calm = new EventScorer();
    const bursty = new EventScorer();
    for (let i = 0; i < 2000; i++) {
      calm.next(ordinary(i), true);
      bursty.next(i % 40 < 6 ? 8 : ordinary(i), true); // a burst every 40 points is this series' normal
    }
    const burst = (e: EventScorer) => Math.max(...Array.from({ length: 6 }, () => e.next(8, true)));
    expect(burst(calm)).toBeGreaterThan(0.7);
    expect(burst(bursty)).toBeLessThan(0.5);
  });

  it("takes a surprise that recurs at the same time of the previous cycle, a little early or late, as a routine", () => {
    const events = new EventScorer(288);
    let seen = 0;
    const burst = (size: number) => Math.max(...Array.from({ length: 6 }, () => (seen++, events.next(size, true))));
    const ordinaryUntil = (end: number) => {
      for (; seen < end; seen++) events.next(ordinary(seen), true);
    };
    ordinaryUntil(600);
    expect(burst(12)).toBeGreaterThan(0.7); // first seen: an anomaly
    ordinaryUntil(600 + 288 + 3);
    expect(burst(12)).toBe(0); // the same, a day later and 3 points late: a routine
    ordinaryUntil(600 + 2 * 288);
    expect(burst(60)).toBeGreaterThan(0.7); // larger than the routine: an anomaly
    ordinaryUntil(1500);
    expect(burst(12)).toBeGreaterThan(0.7); // at another time of day: an anomaly again
  });

  it("does not alarm on rounding-sized residuals of a series without noise", () => {
    const events = new EventScorer();
    for (let i = 0; i < 500; i++) events.next(i % 2 ? 1e-3 : 0, true);
    expect(Math.max(...Array.from({ length: 6 }, () => events.next(0.1, true)))).toBeLessThan(0.7);
  });

  it("judges residuals on their new footing after a restart", () => {
    const withRestart = new EventScorer();
    const without = new EventScorer();
    for (const e of [withRestart, without]) for (let i = 0; i < 400; i++) e.next(6 + ordinary(i), true);
    withRestart.restart();
    const burst = (e: EventScorer) => {
      for (let i = 0; i < 200; i++) e.next(ordinary(i), true);
      return Math.max(...Array.from({ length: 6 }, () => e.next(8, true)));
    };
    expect(burst(withRestart)).toBeGreaterThan(0.7);
    expect(burst(without)).toBeLessThan(0.7);
  });

  it("reports nothing during the engine's warm-up, and always a number in [0, 1] (property)", () => {
    expect(new EventScorer().next(100, false)).toBe(0);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY)), { maxLength: 300 }), (zs) => {
        const e = new EventScorer();
        for (const z of zs) {
          const s = e.next(z, true);
          expect(s >= 0 && s <= 1).toBe(true);
        }
        for (let i = 0; i < 200; i++) e.next(ordinary(i), true);
        expect(Number.isNaN(e.next(12, true))).toBe(false); // bad input left no NaN behind
      }),
    );
  });
});
