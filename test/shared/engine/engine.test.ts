import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kept, SeriesBank } from "../../../shared/engine/bank.ts";
import { RARITY_AT_70, rarityOfScore, rarityOverIntervals, scoreOfRarity, studentRarity } from "../../../shared/engine/calibration.ts";
import { EventLayer } from "../../../shared/engine/event.ts";
import { applyFeedback } from "../../../shared/engine/feedback.ts";
import { layoutFor } from "../../../shared/engine/layout.ts";
import { newStepResult, step } from "../../../shared/engine/step.ts";
import { FREQUENCIES, type Frequency, intervalMs } from "../../../shared/model/frequency.ts";
import { collidingKeys, HOUR } from "../../builders.ts";
import { noise, run, range, spikyForGood, uniform } from "./series.ts";

/** A daily cycle with noise. */
const value = (k: number) => 500 + 300 * Math.cos((2 * Math.PI * k) / 24) + 8 * noise(k);

describe("calibration", () => {
  it("maps rarity monotonically onto 0–100, 70 at one interval in 2,000, and back", () => {
    expect(scoreOfRarity(0)).toBe(0);
    expect(scoreOfRarity(RARITY_AT_70)).toBeCloseTo(70, 10);
    expect(RARITY_AT_70).toBeCloseTo(Math.log10(2000), 1);
    expect(rarityOfScore(scoreOfRarity(5))).toBeCloseTo(5, 10);
    for (let r = 0.5; r < 40; r += 0.5) expect(scoreOfRarity(r + 0.5)).toBeGreaterThan(scoreOfRarity(r));
  });

  it("gives distinct severities to distinct rarities up to one in 10^15, and never 100, however rare", () => {
    const shown = (r: number) => Math.round(scoreOfRarity(r) * 100) / 100; // as anomalies are written
    for (let r = 1; r < 15; r++) expect(shown(r + 1)).toBeGreaterThan(shown(r));
    expect(scoreOfRarity(1e6)).toBeLessThan(100);
    expect(shown(300)).toBeLessThan(100);
  });

  it("judges a rarity over m intervals (PT1M: 5) as the chance that any of them is as rare: above 0, in order, log10 m off when rare", () => {
    fc.assert(
      // Rarities from one interval in 10 on, steps down to a second (m up to 300).
      fc.property(fc.double({ min: 1, max: 1e6, noNaN: true }), fc.double({ min: 1, max: 1e6, noNaN: true }), fc.double({ min: 1, max: 300, noNaN: true }), (a, b, m) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const over = rarityOverIntervals(lo, m);
        expect(over).toBeGreaterThan(0);
        expect(over).toBeLessThanOrEqual(lo * (1 + 1e-9));
        if (hi - lo > 1e-6 * hi) expect(rarityOverIntervals(hi, m)).toBeGreaterThan(over);
      }),
    );
    expect(rarityOverIntervals(0, 5)).toBe(0);
    expect(rarityOverIntervals(3.3, 1)).toBeCloseTo(3.3, 12);
    // 1 − (1 − 0.1)^5 = 0.40951
    expect(rarityOverIntervals(1, 5)).toBeCloseTo(-Math.log10(0.40951), 12);
    for (const r of [8, 15, 99.9, 100.1, 300]) expect(rarityOverIntervals(r, 5)).toBeCloseTo(r - Math.log10(5), 6);
  });

  it("computes the Student t tail exactly enough: known quantiles, and the Gaussian in the limit", () => {
    expect(10 ** -studentRarity(12.706, 1)).toBeCloseTo(0.05, 4);
    expect(10 ** -studentRarity(2.776, 4)).toBeCloseTo(0.05, 4);
    expect(10 ** -studentRarity(1.96, 1e6)).toBeCloseTo(0.05, 4);
    expect(studentRarity(40, 3)).toBeGreaterThan(studentRarity(20, 3));
    expect(Number.isFinite(studentRarity(1e9, 1000))).toBe(true);
  });
});

describe("engine", () => {
  it("learns a daily cycle and stays quiet on normal data", () => {
    const bank = new SeriesBank(HOUR);
    const scores = run(bank, bank.slot("s"), range(0, 24 * 21), value);
    expect(Math.max(...scores.slice(24 * 7))).toBeLessThan(70);
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
    expect(Math.abs(out.expected - (500 + 300 * Math.cos((2 * Math.PI * k) / 24)))).toBeLessThan(25);
  });

  it("takes a lasting level shift as the new normal", () => {
    const bank = new SeriesBank(HOUR);
    const s = bank.slot("s");
    run(bank, s, range(0, 24 * 14), value);
    const after = run(bank, s, range(24 * 14, 24 * 17), (k) => value(k) + 400);
    expect(after[0]).toBeGreaterThanOrEqual(90);
    expect(Math.max(...after.slice(48))).toBeLessThan(70);
  });

  it("treats a gap as missing, not as zero", () => {
    const bank = new SeriesBank(HOUR);
    const s = bank.slot("s");
    run(bank, s, range(0, 24 * 14), value);
    const afterGap = run(bank, s, range(24 * 16, 24 * 17), value);
    expect(Math.max(...afterGap)).toBeLessThan(70);
  });

  it("does not panic at small counts: 1 → 3 is not a catastrophe", () => {
    const bank = new SeriesBank(HOUR);
    const s = bank.slot("s");
    run(bank, s, range(0, 24 * 14), (k) => (k % 5 === 0 ? 1 : 0));
    const out = newStepResult();
    step(bank, s, 24 * 14 + 1, 3, out);
    expect(out.score).toBeLessThan(70);
  });

  it("gives the same scores when a run is split across a snapshot, event layer included (round trip)", () => {
    const ks = range(0, 24 * 30);
    const bumpy = (k: number) => value(k) + (k === 600 ? -300 : 0) + (k > 650 && k < 660 ? 150 : 0);
    const whole = new SeriesBank(HOUR);
    const expected = run(whole, whole.slot("s"), ks, bumpy);
    const first = new SeriesBank(HOUR);
    const part1 = run(first, first.slot("s"), ks.slice(0, 400), bumpy);
    const bytes = first.serialize();
    const second = SeriesBank.deserialize(Buffer.concat([Buffer.alloc(3), bytes]).subarray(3));
    const part2 = run(second, second.slot("s"), ks.slice(400), bumpy);
    expect([...part1, ...part2]).toEqual(expected);
    expect(expected.some((s) => s >= 70)).toBe(true);
    expect(second.serialize()).toEqual(whole.serialize());
  });

  it("gives the same scores when a run is split while an event is open: when it began is saved, so its tails are held as long", () => {
    // Minute data turning spiky for good on day 3: the event it opens lasts hours, its tails held for the first six.
    const change = 3 * 1440;
    const ks = range(0, change + 600);
    const spiky = spikyForGood(change, 1);
    const whole = new SeriesBank(60_000);
    const expected = run(whole, whole.slot("s"), ks, spiky);
    const split = change + 60;
    const first = new SeriesBank(60_000);
    const part1 = run(first, first.slot("s"), ks.slice(0, split), spiky);
    expect(first.eventLeft[0]).toBeGreaterThan(0);
    expect(first.eventSince[0]).toBeGreaterThanOrEqual(change);
    for (const adopt of [true, false]) {
      const second = SeriesBank.deserialize(first.serialize(), { adopt });
      expect([...part1, ...run(second, second.slot("s"), ks.slice(split), spiky)]).toEqual(expected);
      expect(second.serialize()).toEqual(whole.serialize());
    }
    // Lost, the event would hold no tails from there on, and score otherwise.
    const forgot = SeriesBank.deserialize(first.serialize());
    forgot.eventSince[0] = NaN;
    expect(run(forgot, forgot.slot("s"), ks.slice(split), spiky)).not.toEqual(expected.slice(split));
  });

  it("scores each series of a shared bank as a bank of its own would, series starting apart and with gaps (what a bank keeps per interval and per point count)", () => {
    for (const interval of [60_000, 300_000, HOUR]) {
      const perDay = 86_400_000 / interval;
      const n = Math.round(perDay * 9);
      const kinds = [
        (j: number) => 500 + 300 * Math.cos((2 * Math.PI * j) / perDay) + 8 * noise(j, 1) + (j % 997 === 500 ? 400 : 0),
        (j: number) => Math.floor(-Math.log(uniform(j, 2)) * 6) + (j % 701 === 350 ? 40 : 0),
        (j: number) => 20 + 2 * noise(j, 3) + (j > n / 2 ? 15 : 0),
        (j: number) => 100 + 5 * Math.tan(Math.PI * (uniform(j, 4) - 0.5)),
      ];
      const series = range(0, 12).map((s) => ({ key: `s${s}`, f: kinds[s % kinds.length]!, start: (s * 37) % 200 }));
      const shared = new SeriesBank(interval, 4);
      const own = series.map(() => new SeriesBank(interval));
      const out = newStepResult();
      const fields = (into: number[]) => into.push(out.expected, out.scale, out.scaleBelow, out.scaleAbove, out.z, out.score, out.drift, +out.routine + 2 * +out.ongoing + 4 * +out.open);
      const inShared: number[] = [];
      const alone: number[] = [];
      const k0 = Math.floor(Date.UTC(2024, 0, 1) / interval);
      let anomalies = 0;
      for (let j = 0; j < n; j++) {
        series.forEach(({ key, f, start }, s) => {
          if (j < start || uniform(j * 13 + s, 5) < 0.05) return;
          const x = f(j);
          step(shared, shared.slot(key), k0 + j, x, out, j < start + n / 10);
          fields(inShared);
          step(own[s]!, own[s]!.slot(key), k0 + j, x, out, j < start + n / 10);
          fields(alone);
          if (out.score >= 70) anomalies++;
        });
      }
      // Compared bit for bit; the first step that differs is named.
      const a = new Uint8Array(Float64Array.from(inShared).buffer);
      const b = new Uint8Array(Float64Array.from(alone).buffer);
      expect(a.findIndex((byte, at) => byte !== b[at]) >> 3, `${interval} ms: the field that differs first`).toBe(-1);
      expect(a.length).toBe(b.length);
      series.forEach(({ key }, s) => expect(shared.select([shared.find(key)!]).serialize()).toEqual(own[s]!.serialize()));
      expect(anomalies).toBeGreaterThan(0);
    }
  });

  it("finds every series by its key, whole or in two parts, as a map would, keys of one hash included (property)", () => {
    // Two keys with the same FNV-1a hash: the bank must still tell them apart.
    const pair = collidingKeys(1) as [string, string];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...pair)), { maxLength: 300 }), fc.array(fc.nat(), { maxLength: 300 }), (keys, cuts) => {
        const bank = new SeriesBank(HOUR);
        const reference = new Map<string, number>();
        keys.forEach((key, i) => {
          expect(bank.find(key)).toBe(reference.get(key));
          expect(bank.has(key)).toBe(reference.has(key));
          const cut = (cuts[i] ?? 0) % (key.length + 1);
          const slot = i % 2 ? bank.slot(key) : bank.slotOf(key.slice(0, cut), key.slice(cut));
          if (!reference.has(key)) reference.set(key, reference.size);
          expect(slot).toBe(reference.get(key));
        });
        expect(bank.keys).toEqual([...reference.keys()]);
        const back = SeriesBank.deserialize(bank.serialize(), { adopt: true });
        for (const [key, slot] of reference) expect(back.find(key)).toBe(slot);
        expect(back.find(`${pair[0]}x`)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });

  it("gives way to a Map when a tenant's keys are chosen to share one hash: every series still found, and after a snapshot", () => {
    const keys = collidingKeys(10);
    const bank = new SeriesBank(HOUR);
    keys.forEach((key, i) => expect(i % 2 ? bank.slot(key) : bank.slotOf(key.slice(0, 9), key.slice(9))).toBe(i));
    expect(bank.gaveWay).toBe(true);
    keys.forEach((key, i) => expect(bank.find(key)).toBe(i));
    expect(bank.find(`${keys[0]}x`)).toBeUndefined();
    const back = SeriesBank.deserialize(bank.serialize());
    expect(back.gaveWay).toBe(true);
    keys.forEach((key, i) => expect(back.find(key)).toBe(i));
    // Keys that are not chosen to collide keep the table.
    const plain = new SeriesBank(HOUR);
    for (let i = 0; i < 50_000; i++) plain.slot(`shop\u001fde\u001f${i}`);
    expect(plain.gaveWay).toBe(false);
  });

  it("adopts a snapshot's aligned bytes as its state without a copy, copies unaligned ones, and grows past them", () => {
    const bank = new SeriesBank(HOUR);
    for (const key of ["a", "b", "c"]) run(bank, bank.slot(key), range(0, 30), value);
    const bytes = bank.serialize();
    const adopted = SeriesBank.deserialize(bytes, { adopt: true });
    expect(adopted.level.buffer).toBe(bytes.buffer);
    const shifted = Buffer.concat([Buffer.alloc(3), bytes]).subarray(3);
    const copied = SeriesBank.deserialize(shifted, { adopt: true });
    expect(copied.level.buffer).not.toBe(shifted.buffer);
    expect(adopted.serialize()).toEqual(bytes);
    expect(copied.serialize()).toEqual(bytes);
    // Learning on, and a new series that outgrows the adopted arrays, end where a bank never saved ends.
    for (const b of [adopted, bank]) {
      run(b, b.slot("a"), range(30, 40), value);
      run(b, b.slot("d"), range(0, 40), value);
    }
    expect(adopted.serialize()).toEqual(bank.serialize());
    expect(Buffer.concat(bank.serializeParts())).toEqual(Buffer.from(bank.serialize()));
  });

  it("refuses a truncated snapshot or one of another format, with a clear error", () => {
    const bank = new SeriesBank(HOUR);
    run(bank, bank.slot("s"), range(0, 10), value);
    const bytes = bank.serialize();
    expect(() => SeriesBank.deserialize(bytes.subarray(0, bytes.length - 16))).toThrow(/truncated/);
    expect(() => SeriesBank.deserialize(new Uint8Array(12))).toThrow(/not a Vigil model snapshot/);
  });

  it("scores nothing before the warm-up, whatever the cadence (so `vigil score` may read the interval from the first rows)", () => {
    for (const interval of [60_000, HOUR, 24 * HOUR, 30 * 24 * HOUR]) {
      const bank = new SeriesBank(interval);
      const scores = run(bank, bank.slot("s"), range(0, 16), (k) => (k % 2 ? 1e6 : -1e6));
      expect(scores.every((s) => s === 0), `interval ${interval}`).toBe(true);
    }
  });

  it("speaks of the likelihood only once its ring of sizes is full (event.ts sums the whole ring, written out)", () => {
    expect(EventLayer.MIN_HISTORY).toBeGreaterThanOrEqual(Kept.SHORT);
  });

  it("keeps state per series fixed and within 4 KB at every frequency", () => {
    for (const f of FREQUENCIES) {
      const bank = new SeriesBank(intervalMs(f));
      const bytes = bank.bytesPerSeries();
      expect(bytes, f).toBeLessThanOrEqual(4096);
      const s = bank.slot("a");
      run(bank, s, range(0, 100), value);
      expect(bank.serialize().length, f).toBeGreaterThanOrEqual(bytes);
    }
    expect(layoutFor(5 * 60_000).daily.buckets).toBe(288);
    expect(layoutFor(60_000).daily).toEqual({ buckets: 288, divisor: 5 });
    expect(layoutFor(24 * HOUR).weekly.buckets).toBe(7);
  });

  it("follows a minute or five-minute series' level over 200 minutes, an hourly one's over 20 hours", () => {
    const memoryMinutes = (ms: number) => ms / layoutFor(ms).rates.level / 60_000;
    const at = (f: Frequency) => memoryMinutes(intervalMs(f));
    expect(at("PT1M")).toBeCloseTo(200);
    expect(at("PT5M")).toBeCloseTo(200);
    expect(at("PT10M")).toBeCloseTo(400);
    expect(at("PT1H")).toBeCloseTo(20 * 60);
    // 40 intervals at steps between five and thirty minutes (a step `vigil score` meets), and at least five however long the step.
    expect(memoryMinutes(15 * 60_000)).toBeCloseTo(600);
    expect(at("P1D")).toBeCloseTo(5 * 24 * 60);
  });

  it("means the same rarity on every series: a series scaled by any factor scores the same (property)", () => {
    const base = new SeriesBank(HOUR);
    const s = base.slot("s");
    const wobbly = (k: number) => value(k) + (k === 500 ? 120 : 0) + (k > 520 && k < 530 ? -60 : 0) + 0.5;
    const reference = run(base, s, range(0, 24 * 28), wobbly);
    expect(reference.some((x) => x >= 70)).toBe(true);
    fc.assert(
      fc.property(fc.constantFrom(1e-3, 0.37, 7, 1e4, 1e6), (factor) => {
        const bank = new SeriesBank(HOUR);
        const scores = run(bank, bank.slot("s"), range(0, 24 * 28), (k) => wobbly(k) * factor);
        scores.forEach((x, j) => expect(x).toBeCloseTo(reference[j]!, 3));
      }),
      { numRuns: 5 },
    );
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
          expect(out.score).toBeLessThan(100);
        }
        expect(SeriesBank.deserialize(bank.serialize()).serialize()).toEqual(bank.serialize());
      }),
    );
  });

  it("keeps a series' state finite whatever magnitudes it is given, so a later deviation still alarms (property)", () => {
    // Values past 32-bit floats' range (3.4e38), and past the engine's MAX_VALUE below it.
    const huge = fc.constantFrom(1e31, -1e31, 3.5e38, 1e39, -1e39, 1e50, 1e300);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 24 * 3 }), huge), { maxLength: 5 }), (poison) => {
        const bank = new SeriesBank(HOUR);
        const s = bank.slot("s");
        const out = newStepResult();
        const at = new Map(poison);
        // Four weeks of a daily shape, some of its hours (in the first three days, the same hour on three of them, say) given values beyond any figure.
        for (let k = 0; k < 24 * 28; k++) step(bank, s, k, at.get(k) ?? value(k), out);
        for (const name of ["level", "scale", "daily", "weekly", "dailyTotal", "weeklyTotal", "sizeMean", "sizeVar", "q75", "q95", "recMean", "recMax", "recCur", "driftRef", "driftWander"] as const) {
          expect(bank[name].every(Number.isFinite), name).toBe(true);
        }
        step(bank, s, 24 * 28, value(24 * 28) + 2_000, out);
        expect(out.score).toBeGreaterThan(70);
      }),
      { numRuns: 60 },
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
    const first = scoreOf(bank, s, k, value(k) + 90);
    expect(first.score).toBeGreaterThanOrEqual(70);
    applyFeedback(bank, s, false, first.z);
    const next = scoreOf(bank, s, k + 24, value(k + 24) + 90);
    expect(next.score).toBeLessThan(70);
    expect(scoreOf(bank, s, k + 48, value(k + 48) + 900).score).toBeGreaterThanOrEqual(70); // a far larger one still alarms
    expect(scoreOf(bank, s, k + 72, value(k + 72) - 90).score).toBeGreaterThanOrEqual(70); // and a dip of the same size still does
  });

  it("'an anomaly' keeps the series as sensitive as it was", () => {
    const a = setUp();
    const b = setUp();
    const k = 24 * 21;
    const z = scoreOf(a.bank, a.s, k, value(k) + 90).z;
    scoreOf(b.bank, b.s, k, value(k) + 90);
    applyFeedback(a.bank, a.s, true, z);
    expect(scoreOf(a.bank, a.s, k + 24, value(k + 24) + 90).score).toBe(scoreOf(b.bank, b.s, k + 24, value(k + 24) + 90).score);
  });
});
