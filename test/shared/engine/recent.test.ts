import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RECENT, SeriesBank } from "../../../shared/engine/bank.ts";
import { recentWindow, remember } from "../../../shared/engine/recent.ts";
import { HOUR } from "../../builders.ts";

describe("recent values", () => {
  it("reads back the last RECENT values with NaN for the intervals that had none, across a snapshot", () => {
    const gappy = fc.array(fc.record({ skip: fc.nat(30), x: fc.double({ min: -1e6, max: 1e6, noNaN: true }) }), { minLength: 1, maxLength: 80 });
    fc.assert(
      fc.property(gappy, (steps) => {
        const bank = new SeriesBank(HOUR);
        const i = bank.slot("s");
        const truth = new Map<number, number>();
        let k = 400_000;
        for (const { skip, x } of steps) {
          k += 1 + skip;
          remember(bank, i, k, x, x / 2, 1);
          truth.set(k, Math.fround(x));
        }
        const copy = SeriesBank.deserialize(bank.serialize());
        const window = recentWindow(copy, copy.slot("s"), k + 2);
        expect(window).toHaveLength(RECENT);
        for (const p of window) {
          const want = truth.get(p.k);
          if (want === undefined) expect(p.actual).toBeNaN();
          else expect(p.actual).toBe(want);
        }
      }),
    );
  });
});
