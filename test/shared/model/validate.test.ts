import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { Tags } from "../../../shared/model/shapes.ts";
import { MAX_FIELDS, parseOrThrow } from "../../../shared/model/validate.ts";
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

  it("answers a request of very many bad values in a bounded answer, and one too large to check with a ValidationException, not a crash", () => {
    const refusal = (schema: z.ZodMiniType, input: unknown) => {
      try {
        parseOrThrow(schema, input, "TagResource request");
      } catch (e) {
        return e;
      }
      throw new Error("accepted");
    };
    const manyTags = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
    const overflow = refusal(z.strictObject({ tags: Tags }), { tags: manyTags });
    expect(overflow).toBeInstanceOf(ValidationException);
    expect((overflow as ValidationException).message).toMatch(/too many bad values/);

    const unknownKeys = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`unknown-key-${i}`, 1]));
    const echoed = refusal(z.strictObject({ Name: z.string() }), { Name: "x", ...unknownKeys }) as ValidationException;
    expect(JSON.stringify(echoed.fields).length).toBeLessThan(2_000);
    const badItems = refusal(z.strictObject({ Items: z.array(z.string()) }), { Items: Array.from({ length: 1_000 }, (_, i) => i) }) as ValidationException;
    expect(badItems.fields).toHaveLength(MAX_FIELDS);
    expect(badItems.message).toMatch(/; and 997 more$/);
    const longKey = refusal(z.record(z.string(), z.string()), { ["k".repeat(100_000)]: 1 }) as ValidationException;
    expect(longKey.fields[0]!.Name.length).toBeLessThanOrEqual(256);
  });

  it("is handed schemas declared through shared/model/zod.ts alone, which sets those words before any schema parses", () => {
    const direct = ["shared", "functions", "cli"].flatMap(sources).filter((f) => !f.endsWith(join("model", "zod.ts")) && /from "zod(\/[^"]*)?"/.test(readFileSync(f, "utf8")));
    expect(direct).toEqual([]);
  });
});
