import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Arn } from "../../../shared/model/shapes.ts";
import * as z from "../../../shared/model/zod.ts";

/** The pattern an ARN was checked with before, which backtracked: the same strings must pass. */
const BEFORE = /^arn:([a-z\d-]+):.*:.*:.*:.+$/;

describe("Arn", () => {
  it("takes exactly the strings the pattern before took (property, on strings of an ARN's characters, colons and line breaks)", () => {
    const piece = fc.constantFrom("arn", ":", "aws", "a", "-", "1", "/", "\n", "\r", "\u2028", " ", "");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (pieces) => {
        const s = pieces.join("");
        expect(z.safeParse(Arn, s).success).toBe(BEFORE.test(s));
      }),
      { numRuns: 5000 },
    );
  });

  it("takes L4M's ARNs and refuses what is not one", () => {
    for (const ok of ["arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop", "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders", "arn:aws-cn:sns:cn-north-1:1:t", "arn:aws:s3:::bucket"]) expect(z.safeParse(Arn, ok).success).toBe(true);
    for (const bad of ["arn:aws:sns:us-east-1:1:", "arn::sns:r:1:t", "arn:aws:sns:r:1", "arn:aws:sns:r:1:t\n", `arn:a:${":".repeat(249)}\n`]) expect(z.safeParse(Arn, bad).success).toBe(false);
  });
});
