import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { l4mTime } from "../../../shared/incidents/contribution.ts";

describe("l4mTime", () => {
  it("is the ISO 8601 instant to the second, UTC, for any time Date can hold", () => {
    const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    fc.assert(fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(10000, 0, 1) - 1 }), (ms) => l4mTime(ms) === isoSeconds(ms)), { numRuns: 20_000 });
    fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => l4mTime(ms) === isoSeconds(ms)), { numRuns: 2_000 });
    for (const ms of [0, -1, 951_782_400_000 /* 2000-02-29 */, Date.UTC(1000, 0, 1) - 1, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(2100, 1, 28, 23, 59, 59)]) expect(l4mTime(ms)).toBe(isoSeconds(ms));
  });
});
