import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { prefixEnd } from "../../../shared/store/record-indexes.ts";

/** Strings of any code points, with the edges (U+FFFF, U+10FFFF, around the surrogates) likely. */
const codePoint = fc.oneof(fc.constantFrom(0, 0x2f, 0x30, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff), fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff));
const text = fc.array(codePoint, { maxLength: 5 }).map((cs) => String.fromCodePoint(...cs));
/** SQLite and DynamoDB compare ids as UTF-8 bytes. */
const compare = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

describe("prefixEnd", () => {
  it("bounds exactly the ids starting with a prefix, in byte order", () => {
    fc.assert(
      fc.property(text, text, fc.boolean(), (prefix, rest, extend) => {
        const id = extend ? prefix + rest : rest;
        const end = prefixEnd(prefix);
        const inRange = compare(id, prefix) >= 0 && (end === undefined || compare(id, end) < 0);
        expect(inRange).toBe(id.startsWith(prefix));
      }),
      { numRuns: 5000 },
    );
  });
});
