import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SeriesBank } from "../../../shared/engine/bank.ts";
import { fresh, learn, SAVED } from "./format5-series.ts";
import { toFormat5 } from "./format5-writer.ts";

describe("the format-5 writer of the snapshot fixtures", () => {
  for (const { name, interval, series, points } of SAVED)
    it(`writes a ${name} bank series-major, as format 5 reads: read back, it is the bank`, () => {
      const bank = fresh(interval, series);
      learn(bank, 0, points, points);
      const bytes = toFormat5(bank);
      expect(new TextDecoder().decode(bytes.subarray(8, 40))).toContain('"format":5');
      // All but when an open event began, which format 5 did not keep (format 8 does): read back, it holds no tails.
      bank.eventSince.fill(NaN);
      expect(SeriesBank.deserialize(bytes).serialize()).toEqual(bank.serialize());
    });

  // Run with VIGIL_WRITE_FORMAT5=1 after an engine change that alters the fixtures' state (snapshot-format.test.ts).
  it.runIf(process.env.VIGIL_WRITE_FORMAT5 === "1")("writes the fixtures again from the engine of now", () => {
    for (const { name, interval, series, points } of SAVED) {
      const bank = fresh(interval, series);
      learn(bank, 0, points, points);
      writeFileSync(new URL(`./format5/${name}.bin`, import.meta.url), toFormat5(bank));
    }
  });
});
