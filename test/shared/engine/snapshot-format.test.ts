import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SeriesBank, SnapshotFormatChanged } from "../../../shared/engine/bank.ts";
import { fresh, learn, SAVED } from "./format5-series.ts";

/**
 * Snapshots of format 5 (every array series-major) in ./format5 were saved by the engine
 * before its per-slot arrays turned slot-major; they hold the series of ./format5-series.ts.
 * An engine change that alters that state writes them again: the format-5 engine with the
 * change did (PT1M, 2026-11-30), and since 2026-12-03 ./format5-writer.ts does, which gave
 * the fixtures before byte for byte from the engine before
 * (`VIGIL_WRITE_FORMAT5=1 npx vitest run test/shared/engine/format5-writer.test.ts`).
 * PT1M is there for its routine rings' places, which only a divided day keeps.
 */
describe("model snapshot formats", () => {
  for (const { name, interval, series, points } of SAVED) {
    it(`reads a ${name} snapshot of the series-major format before into the layout of now: the same state, the same scores after`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(`./format5/${name}.bin`, import.meta.url)));
      expect(new TextDecoder().decode(bytes.subarray(8, 40))).toContain('"format":5');
      const read = SeriesBank.deserialize(bytes, { adopt: true });
      const never = fresh(interval, series);
      learn(never, 0, points, points);
      // An event open when it was saved holds its series' tails no longer: format 5 did not keep when it began (format 8 does).
      never.eventSince.fill(NaN);
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

  /** `bank`'s snapshot as `format` wrote it: the same header but its format, without the arrays that format did not keep (the last ones). */
  const olderFormat = (bytes: Uint8Array, format: number, dropped: number) => {
    const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + length)).replace('"format":8', `"format":${format}`);
    const older = new Uint8Array(bytes.subarray(0, bytes.byteLength - dropped));
    older.set(new TextEncoder().encode(header), 8);
    return older;
  };

  it("reads a snapshot of format 6 (no anomaly times) or 7 (no event beginnings) as a bank none of whose series had an anomaly, or whose open events hold no tails, adopted or copied", () => {
    const bank = fresh(3_600_000, 3);
    learn(bank, 0, 300, 0);
    bank.lastAnomalyK.set([NaN, 12, NaN]);
    bank.eventSince.set([NaN, NaN, 299]);
    const bytes = bank.serialize();
    // The last arrays: each series' event beginning, and before it its last anomaly (3 series × 8 bytes each).
    const seven = olderFormat(bytes, 7, 24);
    const six = olderFormat(bytes, 6, 24 + 24);
    for (const adopt of [true, false]) {
      const read7 = SeriesBank.deserialize(seven, { adopt });
      expect([...read7.lastAnomalyK.subarray(0, 3)]).toEqual([NaN, 12, NaN]);
      expect([...read7.eventSince.subarray(0, 3)]).toEqual([NaN, NaN, NaN]);
      read7.eventSince[2] = 299;
      expect(read7.serialize()).toEqual(bytes);
      const read6 = SeriesBank.deserialize(six, { adopt });
      expect([...read6.lastAnomalyK.subarray(0, 3)]).toEqual([NaN, NaN, NaN]);
      expect([...read6.eventSince.subarray(0, 3)]).toEqual([NaN, NaN, NaN]);
      read6.lastAnomalyK[1] = 12;
      read6.eventSince[2] = 299;
      expect(read6.serialize()).toEqual(bytes);
    }
  });

  it("reads a series whose baseline is not finite (a damaged snapshot, or one saved before values were bounded) as a new series, the others as saved, adopted or copied", () => {
    for (const [field, bad] of [["level", NaN], ["scale", Infinity], ["dailyTotal", -Infinity], ["weeklyTotal", NaN]] as const) {
      const saved = fresh(3_600_000, 3);
      learn(saved, 0, 300, 0);
      saved[field][1] = bad;
      const bytes = saved.serialize();
      for (const adopt of [true, false]) {
        const read = SeriesBank.deserialize(new Uint8Array(bytes), { adopt });
        expect(read.keys).toEqual(["s0", "s1", "s2"]);
        // Series 1 holds what a series just made holds; the others are as saved.
        const made = new SeriesBank(3_600_000);
        made.slot("s1");
        expect(read.select([1]).serialize()).toEqual(made.serialize());
        expect(read.select([0, 2]).serialize()).toEqual(saved.select([0, 2]).serialize());
        // It learns again from its next values: its baseline is finite for good.
        learn(read, 300, 700, 0);
        expect([read.level[1], read.scale[1], read.dailyTotal[1], read.weeklyTotal[1]].every(Number.isFinite)).toBe(true);
      }
    }
  });

  it("refuses a snapshot of a format it cannot read, older or newer, by name", () => {
    const bytes = fresh(3_600_000, 1).serialize();
    const length = new DataView(bytes.buffer).getUint32(4, true);
    for (const format of [4, 9]) {
      const header = new TextDecoder().decode(bytes.subarray(8, 8 + length)).replace('"format":8', `"format":${format}`);
      const other = new Uint8Array(bytes);
      other.set(new TextEncoder().encode(header), 8);
      expect(() => SeriesBank.deserialize(other)).toThrow(SnapshotFormatChanged);
    }
  });
});
