import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { timeSeriesId, type MetricSetArn } from "../../../shared/model/ids.ts";

const SET = "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders" as MetricSetArn;

describe("timeSeriesId", () => {
  it("is the SHA-512 of the metric set, the measure and each dimension's name and value, NUL between them, for values without NUL", () => {
    const plain = createHash("sha512").update(`${SET}\0revenue\0marketplace=de\0platform=web`).digest("hex");
    expect(timeSeriesId(SET, "revenue", [["marketplace", "de"], ["platform", "web"]])).toBe(plain);
  });

  it("gives two series distinct ids, values holding NUL or lone surrogates included (property)", () => {
    const value = fc.string({ unit: fc.constantFrom("a", "b", "\0", "=", "d", "\ud800", "\udc00", "\ufffd"), maxLength: 5 });
    fc.assert(
      fc.property(fc.tuple(value, value), fc.tuple(value, value), ([a1, a2], [b1, b2]) => {
        const id = (x: string, y: string) => timeSeriesId(SET, "revenue", [["country", x], ["device", y]]);
        expect(id(a1, a2) === id(b1, b2)).toBe(a1 === b1 && a2 === b2);
      }),
      { numRuns: 3000 },
    );
    expect(timeSeriesId(SET, "revenue", [["country", "a\0device=b"], ["device", "c"]])).not.toBe(timeSeriesId(SET, "revenue", [["country", "a"], ["device", "b\0device=c"]]));
    // A JSON Lines file may write a lone surrogate ("\ud800"); UTF-8 would write it as U+FFFD.
    expect(timeSeriesId(SET, "revenue", [["country", "de\ud800"]])).not.toBe(timeSeriesId(SET, "revenue", [["country", "de\ufffd"]]));
  });
});
