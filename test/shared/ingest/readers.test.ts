import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EXTRA_CELLS, readRecords } from "../../../shared/ingest/readers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("readers", () => {
  it("reads CSV with a header, a delimiter and a quote symbol", () => {
    const { rows, malformed } = readRecords("f.csv", enc("ts;name;v\n1;'a;b';2\n"), { CsvFormatDescriptor: { Delimiter: ";", QuoteSymbol: "'" } });
    expect(malformed).toEqual([]);
    expect(rows).toEqual([{ file: "f.csv", line: 2, fields: { ts: "1", name: "a;b", v: "2" } }]);
  });

  it("reads CSV without a header through HeaderList, and gzipped files", () => {
    const bytes = gzipSync(enc("1,x,3\n2,y,4\n"));
    const { rows } = readRecords("f.csv.gz", bytes, { CsvFormatDescriptor: { ContainsHeader: false, HeaderList: ["ts", "d", "v"], FileCompression: "GZIP" } });
    expect(rows.map((r) => r.fields)).toEqual([
      { ts: "1", d: "x", v: "3" },
      { ts: "2", d: "y", v: "4" },
    ]);
  });

  it("reports a truncated GZIP file as one unreadable record at line 0, in either format", () => {
    const truncated = gzipSync(enc("ts,v\n1,2\n")).subarray(0, 12);
    for (const format of [undefined, { JsonFormatDescriptor: {} }]) {
      const { rows, malformed } = readRecords("f.gz", truncated, format);
      expect(rows).toEqual([]);
      expect(malformed).toEqual([{ file: "f.gz", line: 0, raw: "", detail: expect.stringMatching(/^unreadable file: not a readable GZIP file/) }]);
    }
  });

  it("keeps short and long rows for the validator, and reports broken quoting", () => {
    const { rows, malformed } = readRecords("f.csv", enc('a,b\n1\n1,2,3\n"unclosed,2\n'), undefined);
    expect(rows[0]!.fields).toEqual({ a: "1" });
    expect(rows[1]!.fields[EXTRA_CELLS]).toEqual(["3"]);
    expect(malformed).toHaveLength(1);
    expect(malformed[0]!.detail).toMatch(/quote/i);
  });

  it("reads JSON Lines and reports lines that are not objects", () => {
    const { rows, malformed } = readRecords("f.jsonl", enc('{"ts":1,"v":2}\n\n[1]\n{bad\n'), { JsonFormatDescriptor: {} });
    expect(rows).toEqual([{ file: "f.jsonl", line: 1, fields: { ts: 1, v: 2 } }]);
    expect(malformed.map((m) => m.line)).toEqual([3, 4]);
  });

  it("never throws on arbitrary bytes and accounts for every CSV line (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        readRecords("x.csv", bytes, undefined);
        readRecords("x.jsonl", bytes, { JsonFormatDescriptor: {} });
      }),
    );
    const cell = fc.stringMatching(/^[a-z0-9 .-]{0,6}$/);
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 30 }), (lines) => {
        const text = ["a,b,c", ...lines.map((l) => l.join(","))].join("\n") + "\n";
        const { rows, malformed } = readRecords("x.csv", enc(text), undefined);
        const nonEmpty = lines.filter((l) => l.join(",") !== "").length;
        expect(rows.length + malformed.length).toBe(nonEmpty);
      }),
    );
  });

  it("reads what it wrote, for any JSON object rows (property)", () => {
    const row = fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.oneof(fc.integer(), fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true })));
    fc.assert(
      fc.property(fc.array(row, { maxLength: 20 }), (objs) => {
        const { rows, malformed } = readRecords("x.jsonl", enc(objs.map((o) => JSON.stringify(o)).join("\n")), { JsonFormatDescriptor: {} });
        expect(malformed).toEqual([]);
        expect(rows.map((r) => r.fields)).toEqual(objs.map((o) => JSON.parse(JSON.stringify(o))));
      }),
    );
  });
});
