import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonLinesParts, toJsonLines } from "../../../shared/detect/results.ts";

const decoded = (parts: readonly Uint8Array[]) => Buffer.concat(parts).toString("utf8");

describe("jsonLinesParts", () => {
  it("writes the lines toJsonLines writes, split into parts only between lines", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ id: fc.string({ unit: "grapheme" }), n: fc.double() }), { maxLength: 50 }), (items) => {
        const parts = jsonLinesParts(items, (i) => ({ ...i, tagged: true }));
        expect(decoded(parts)).toBe(toJsonLines(items.map((i) => ({ ...i, tagged: true }))));
        for (const p of parts) expect(Buffer.from(p).toString("utf8").endsWith("\n")).toBe(true);
      }),
    );
  });

  it("holds a wide interval's lines in parts of about a mebibyte each", () => {
    const items = Array.from({ length: 30_000 }, (_, i) => ({ timeSeriesId: i.toString(16).padStart(64, "0"), dimensions: { market: `m${i}`, platform: "web" }, actual: i }));
    const parts = jsonLinesParts(items, (i) => i);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts.slice(0, -1)) expect(p.byteLength).toBeGreaterThanOrEqual(1 << 20);
    for (const p of parts) expect(p.byteLength).toBeLessThan((1 << 20) + 200);
    expect(decoded(parts).split("\n").length - 1).toBe(items.length);
  });
});
