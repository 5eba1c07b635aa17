import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { parseOrThrow } from "../../../shared/model/validate.ts";
import * as z from "../../../shared/model/zod.ts";

const Request = z.strictObject({ Name: z.string().check(z.minLength(1)), Size: z.int(), Tags: z.array(z.string()).check(z.maxLength(1)), Extra: z.boolean(), Last: z.string() });

/** The TypeScript files under `dir`, recursively. */
const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));

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

  it("says the one field that failed, in zod's English words (zod/mini alone would say 'Invalid input' of everything)", () => {
    expect(() => parseOrThrow(z.strictObject({ Port: z.number() }), { Port: "x" }, "settings")).toThrow(/^Invalid settings: Port Invalid input: expected number, received string$/);
    expect(() => parseOrThrow(z.strictObject({ Name: z.string().check(z.minLength(3)) }), { Name: "a" }, "settings")).toThrow(/^Invalid settings: Name Too small: expected string to have >=3 characters$/);
  });

  it("is handed schemas declared through shared/model/zod.ts alone, which sets those words before any schema parses", () => {
    const direct = ["shared", "functions", "cli"].flatMap(sources).filter((f) => !f.endsWith(join("model", "zod.ts")) && /from "zod(\/[^"]*)?"/.test(readFileSync(f, "utf8")));
    expect(direct).toEqual([]);
  });
});
