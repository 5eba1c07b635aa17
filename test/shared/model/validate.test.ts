import * as z from "zod";
import { describe, expect, it } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { parseOrThrow } from "../../../shared/model/validate.ts";

const Request = z.strictObject({ Name: z.string().min(1), Size: z.number().int(), Tags: z.array(z.string()).max(1), Extra: z.boolean(), Last: z.string() });

describe("parseOrThrow", () => {
  it("names the first fields in the message a CLI or SDK user reads, and all of them in Fields", () => {
    const e = (() => {
      try {
        parseOrThrow(Request, { Name: "", Size: 1.5, Tags: ["a", "b"], Extra: "yes" }, "Thing request");
      } catch (error) {
        return error;
      }
    })() as ValidationException;
    expect(e).toBeInstanceOf(ValidationException);
    expect(e.message).toMatch(/^Invalid Thing request: Name .+; Size .+; Tags .+; and 2 more$/);
    expect(e.fields.map((f) => f.Name)).toEqual(["Name", "Size", "Tags", "Extra", "Last"]);
    expect(e.reason).toBe("FIELD_VALIDATION_FAILED");
  });

  it("says the one field that failed", () => {
    expect(() => parseOrThrow(z.strictObject({ Port: z.number() }), { Port: "x" }, "settings")).toThrow(/^Invalid settings: Port Invalid input: expected number, received string$/);
  });
});
