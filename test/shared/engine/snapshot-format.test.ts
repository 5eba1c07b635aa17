import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SeriesBank, SnapshotFormatChanged } from "../../../shared/engine/bank.ts";
import { newStepResult, step, type StepResult } from "../../../shared/engine/step.ts";

/**
 * Snapshots of format 5 (every array series-major) in ./format5 were saved by the engine
 * before its per-slot arrays turned slot-major; they hold the series `learn` below makes.
 * Since an engine change alters that state, they are written again: by the format-5 engine
 * with the change (PT1M, 2026-11-30), or by a writer of format 5 that gives the fixtures
 * before byte for byte from the engine before (both, 2026-12-03: the tails held while an
 * event is open).
 * PT1M is there for its routine rings' places, which only a divided day keeps.
 */
const SAVED = [
  { name: "pt1h", interval: 3_600_000, series: 3, points: 600 },
  { name: "pt1m", interval: 60_000, series: 2, points: 4000 },
] as const;

const value = (i: number, j: number, perDay: number) => 100 + 20 * i + 10 * Math.sin((2 * Math.PI * j) / perDay) + ((j * 7 + i * 3) % 5) + (j % 97 === 0 ? 40 : 0);
const k0 = (interval: number) => Math.floor(Date.UTC(2024, 0, 1) / interval);

/** Steps the bank's series through points [from, to), interleaved, with gaps; each step's result, every field. */
function learn(bank: SeriesBank, from: number, to: number, points: number): number[] {
  const out: StepResult = newStepResult();
  const perDay = 86_400_000 / bank.intervalMs;
  const results: number[] = [];
  for (let j = from; j < to; j++)
    for (let i = 0; i < bank.size; i++) {
      if ((j + i) % 13 === 0) continue;
      step(bank, i, k0(bank.intervalMs) + j, value(i, j, perDay), out, j < points / 3);
      results.push(out.expected, out.scale, out.scaleBelow, out.scaleAbove, out.z, out.score, out.drift, +out.routine, +out.ongoing, +out.open);
    }
  return results;
}

function fresh(interval: number, series: number): SeriesBank {
  const bank = new SeriesBank(interval);
  for (let i = 0; i < series; i++) bank.slot(`s${i}`);
  return bank;
}

describe("model snapshot formats", () => {
  for (const { name, interval, series, points } of SAVED) {
    it(`reads a ${name} snapshot of the series-major format before into the layout of now: the same state, the same scores after`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(`./format5/${name}.bin`, import.meta.url)));
      expect(new TextDecoder().decode(bytes.subarray(8, 40))).toContain('"format":5');
      const read = SeriesBank.deserialize(bytes, { adopt: true });
      const never = fresh(interval, series);
      learn(never, 0, points, points);
      expect(read.keys).toEqual(never.keys);
      // Saved again in the format of now, it is what a bank that never saved holds.
      expect(read.serialize()).toEqual(never.serialize());
      const more = Math.round(points / 3);
      const after = learn(read, points, points + more, points);
      expect(after).toEqual(learn(never, points, points + more, points));
      expect(after.filter((_, n) => n % 10 === 5).some((score) => score > 0)).toBe(true);
      expect(read.serialize()).toEqual(never.serialize());
    });
  }

  it("keeps each series' slots apart when the bank grows, is split and saved (slot-major arrays)", () => {
    const whole = fresh(3_600_000, 1);
    learn(whole, 0, 300, 0);
    // Series added one by one grow the bank past its first capacity; each then holds what it would alone.
    const many = fresh(3_600_000, 40);
    learn(many, 0, 300, 0);
    const alone = many.select([0]);
    expect(alone.serialize()).toEqual(whole.serialize());
    const back = SeriesBank.deserialize(many.serialize());
    expect(back.serialize()).toEqual(many.serialize());
    expect(back.select([17, 3]).serialize()).toEqual(many.select([17, 3]).serialize());
    expect(learn(back, 300, 400, 0)).toEqual(learn(many, 300, 400, 0));
  });

  it("reads a snapshot of format 6 (no anomaly times) as a bank none of whose series had an anomaly, adopted or copied", () => {
    const bank = fresh(3_600_000, 3);
    learn(bank, 0, 300, 0);
    bank.lastAnomalyK.set([NaN, 12, NaN]);
    const bytes = bank.serialize();
    const length = new DataView(bytes.buffer).getUint32(4, true);
    // Format 6's bytes: the same header but its format, and no last array (3 series × 8 bytes).
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + length)).replace('"format":7', '"format":6');
    const six = new Uint8Array(bytes.subarray(0, bytes.byteLength - 24));
    six.set(new TextEncoder().encode(header), 8);
    for (const adopt of [true, false]) {
      const read = SeriesBank.deserialize(six, { adopt });
      expect([...read.lastAnomalyK.subarray(0, 3)]).toEqual([NaN, NaN, NaN]);
      read.lastAnomalyK[1] = 12;
      expect(read.serialize()).toEqual(bytes);
    }
  });

  it("refuses a snapshot of a format it cannot read, by name", () => {
    const bytes = fresh(3_600_000, 1).serialize();
    const length = new DataView(bytes.buffer).getUint32(4, true);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + length)).replace('"format":7', '"format":4');
    const other = new Uint8Array(bytes);
    other.set(new TextEncoder().encode(header), 8);
    expect(() => SeriesBank.deserialize(other)).toThrow(SnapshotFormatChanged);
  });
});
