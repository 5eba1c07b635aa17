import { describe, expect, it } from "vitest";
import { describeError, ValidationException } from "../../../shared/model/errors.ts";
import { parseOrThrow } from "../../../shared/model/validate.ts";
import * as z from "../../../shared/model/zod.ts";

const Settings = z.strictObject({ a: z.number(), b: z.number(), c: z.number(), d: z.number(), e: z.number() });
const catchError = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
};

describe("describeError", () => {
  it("says each field once: those the message names are not listed again, the others are", () => {
    const two = describeError(catchError(() => parseOrThrow(Settings, { a: "x", b: "y", c: 1, d: 1, e: 1 }, "settings")));
    expect(two).toBe("ValidationException: Invalid settings: a Invalid input: expected number, received string; b Invalid input: expected number, received string");
    const five = describeError(catchError(() => parseOrThrow(Settings, {}, "settings")));
    expect(five).toMatch(/^ValidationException: Invalid settings: a .*; b .*; c .*; and 2 more \(d: Invalid input: expected number, received undefined; e: Invalid input: expected number, received undefined\)$/);
    expect(five.match(/\ba: /g)).toBeNull();
    expect(describeError(new ValidationException("--for is not a duration", { fields: [{ Name: "for", Message: "must be ISO 8601" }] }))).toBe("ValidationException: --for is not a duration (for: must be ISO 8601)");
    // A field whose entry ends another's ("b Required" in "ab Required") is not taken as named.
    expect(describeError(new ValidationException("Invalid x: ab Required", { fields: [{ Name: "ab", Message: "Required" }, { Name: "b", Message: "Required" }] }))).toBe("ValidationException: Invalid x: ab Required (b: Required)");
  });
});
