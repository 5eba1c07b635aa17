import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SeriesBank } from "../../../shared/engine/bank.ts";
import { scoreOfZ, zOfScore } from "../../../shared/engine/calibration.ts";
import { applyFeedback } from "../../../shared/engine/feedback.ts";
import { layoutFor } from "../../../shared/engine/layout.ts";
import { newStepResult, step } from "../../../shared/engine/step.ts";
import { HOUR } from "../../builders.ts";

/** A daily cycle with deterministic noise. */
const value = (k: number) => 500 + 300 * Math.cos((2 * Math.PI * k) / 24) + ((k * 7919) % 13) - 6;

function run(bank: SeriesBank, slot: number, ks: readonly number[], xs: (k: number) => number): number[] {
  const out = newStepResult();
  return ks.map((k) => {
    step(bank, slot, k, xs(k), out);
    return out.score;
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("calibration", () => {
  it("maps |z| monotonically onto 0–100 and back", () => {
    expect(scoreOfZ(0)).toBeCloseTo(0, 5);
    expect(scoreOfZ(-4)).toBe(scoreOfZ(4));
    expect(scoreOfZ(3)).toBeLessThan(scoreOfZ(5));
    expect(scoreOfZ(60)).toBe(100);
    expect(scoreOfZ(Number.NaN)).toBe(0);
    expect(scoreOfZ(zOfScore(70))).toBeCloseTo(70, 3);
  });
});

describe("engine", () => {
  it("learns a daily cycle and stays quiet on normal data", () => {
    const bank = new SeriesBank(HOUR);
    const scores = run(bank, bank.slot("s"), range(0, 24 * 21), value);
    expect(Math.max(...scores.slice(24 * 7))).toBeLessThan(50);
  });

  it("scores a dip high, with expected value and direction", () => {
    const bank = new SeriesBank(HOUR);
    const s = bank.slot("s");
    run(bank, s, range(0, 24 * 21), value);
    const out = newStepResult();
    const k = 24 * 21;
    step(bank, s, k, value(k) * 0.5, out);
    expect(out.score).toBeGreaterThanOrEqual(90);
    expect(out.z).toBeLessThan(0);
    expect(out.expected).toBeCloseTo(value(k), -1);
  });

  it("takes a lasting level shift as the new normal", () => {
    const bank = new SeriesBank(HOUR);
    const s = bank.slot("s");
    run(bank, s, range(0, 24 * 14), value);
    const after = run(bank, s, range(24 * 14, 24 * 17), (k) => value(k) + 400);
    expect(after[0]).toBeGreaterThanOrEqual(90);
    expect(Math.max(...after.slice(48))).toBeLessThan(50);
  });

  it("treats a gap as missing, not as zero", () => {
    const bank = new SeriesBank(HOUR);
    const s = bank.slot("s");
    run(bank, s, range(0, 24 * 14), value);
    const afterGap = run(bank, s, range(24 * 16, 24 * 17), value);
    expect(Math.max(...afterGap)).toBeLessThan(50);
  });

  it("does not panic at small counts: 1 → 3 is not a catastrophe", () => {
    const bank = new SeriesBank(HOUR);
    const s = bank.slot("s");
    run(bank, s, range(0, 24 * 14), (k) => (k % 5 === 0 ? 1 : 0));
    const out = newStepResult();
    step(bank, s, 24 * 14 + 1, 3, out);
    expect(out.score).toBeLessThan(70);
  });

  it("gives the same scores when a run is split across a snapshot (round trip)", () => {
    const ks = range(0, 24 * 30);
    const noisy = (k: number) => value(k) + (k === 600 ? -300 : 0);
    const whole = new SeriesBank(HOUR);
    const expected = run(whole, whole.slot("s"), ks, noisy);
    const first = new SeriesBank(HOUR);
    const part1 = run(first, first.slot("s"), ks.slice(0, 400), noisy);
    const bytes = first.serialize();
    const second = SeriesBank.deserialize(Buffer.concat([Buffer.alloc(3), bytes]).subarray(3));
    const part2 = run(second, second.slot("s"), ks.slice(400), noisy);
    expect([...part1, ...part2]).toEqual(expected);
    expect(second.serialize()).toEqual(whole.serialize());
  });

  it("scores nothing before the warm-up, whatever the cadence (so `vigil score` may read the interval from the first rows)", () => {
    for (const interval of [60_000, HOUR, 24 * HOUR, 30 * 24 * HOUR]) {
      const bank = new SeriesBank(interval);
      const scores = run(bank, bank.slot("s"), range(0, 16), (k) => (k % 2 ? 1e6 : -1e6));
      expect(scores.every((s) => s === 0), `interval ${interval}`).toBe(true);
    }
  });

  it("keeps state per series fixed and within 2 KB for hourly data", () => {
    expect(new SeriesBank(HOUR).bytesPerSeries()).toBeLessThanOrEqual(2048);
    expect(layoutFor(5 * 60_000).daily.buckets).toBe(288);
    expect(layoutFor(24 * HOUR).weekly.buckets).toBe(7);
  });

  it("always scores finite and within 0–100, whatever the input (property)", () => {
    const x = fc.oneof(fc.double(), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY), fc.constant(0), fc.constant(1e300), fc.integer());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), x), { maxLength: 300 }), (points) => {
        const bank = new SeriesBank(HOUR);
        const s = bank.slot("s");
        const out = newStepResult();
        let k = 0;
        for (const [gap, v] of points) {
          k += gap;
          step(bank, s, k, v, out);
          expect(Number.isFinite(out.score)).toBe(true);
          expect(out.score).toBeGreaterThanOrEqual(0);
          expect(out.score).toBeLessThanOrEqual(100);
        }
        expect(SeriesBank.deserialize(bank.serialize()).serialize()).toEqual(bank.serialize());
      }),
    );
  });
});

describe("feedback", () => {
  const setUp = () => {
    const bank = new SeriesBank(HOUR);
    const s = bank.slot("s");
    run(bank, s, range(0, 24 * 21), value);
    return { bank, s };
  };
  const scoreOf = (bank: SeriesBank, s: number, k: number, x: number) => {
    const out = newStepResult();
    step(bank, s, k, x, out);
    return out;
  };

  it("'not an anomaly' makes the same kind of deviation score below the alert threshold from then on", () => {
    const { bank, s } = setUp();
    const k = 24 * 21;
    const first = scoreOf(bank, s, k, value(k) + 60);
    expect(first.score).toBeGreaterThanOrEqual(70);
    applyFeedback(bank, s, false, first.z);
    const next = scoreOf(bank, s, k + 24, value(k + 24) + 60);
    expect(next.score).toBeLessThan(70);
    expect(scoreOf(bank, s, k + 48, value(k + 48) + 600).score).toBeGreaterThanOrEqual(70); // a far larger one still alarms
    expect(scoreOf(bank, s, k + 72, value(k + 72) - 60).score).toBeGreaterThanOrEqual(70); // and a dip of the same size still does
  });

  it("'an anomaly' keeps the series as sensitive as it was", () => {
    const a = setUp();
    const b = setUp();
    const k = 24 * 21;
    const z = scoreOf(a.bank, a.s, k, value(k) + 60).z;
    scoreOf(b.bank, b.s, k, value(k) + 60);
    applyFeedback(a.bank, a.s, true, z);
    expect(scoreOf(a.bank, a.s, k + 24, value(k + 24) + 60).score).toBe(scoreOf(b.bank, b.s, k + 24, value(k + 24) + 60).score);
  });
});
