import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chartValue } from "../../../shared/detect/group-event.ts";

describe("chartValue", () => {
  it("keeps three decimals, and a small rate's own digits rather than 0", () => {
    expect(chartValue(1234.56789)).toBe(1234.568);
    expect(chartValue(-2.0004)).toBe(-2);
    expect(chartValue(0.00042137)).toBe(0.0004214);
    expect(chartValue(-0.000001234567)).toBe(-0.000001235);
    expect(chartValue(0)).toBe(0);
  });

  it("is within half a thousandth, or within 1/2000 of the value below one, and keeps its sign", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (x) => {
        const v = chartValue(x);
        expect(Math.abs(v - x)).toBeLessThanOrEqual(Math.abs(x) >= 1 ? 0.0005 + Math.abs(x) * Number.EPSILON * 4 : Math.abs(x) / 2000);
        expect(Math.sign(v) === Math.sign(x) || v === 0).toBe(true);
      }),
    );
  });
});
