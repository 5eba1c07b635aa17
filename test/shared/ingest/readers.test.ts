import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeFile, EXTRA_CELLS, MAX_RECORD_SIZE, ReadBudget, readHead, readRecords, streamRecords, type ReadItem } from "../../../shared/ingest/readers.ts";
import type { FileFormatDescriptor } from "../../../shared/model/metric-set.ts";

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

  it("keeps a quote inside a field or after a closing one as a character: the rows after it are read", () => {
    const { rows, malformed } = readRecords("f.csv", enc('ts,d,v\n1,5" screen,2\n2,"x"y,3\n3,z,4\n'), undefined);
    expect(malformed).toEqual([]);
    expect(rows.map((r) => [r.line, r.fields["d"], r.fields["v"]])).toEqual([
      [2, '5" screen', "2"],
      [3, '"x"y', "3"],
      [4, "z", "4"],
    ]);
  });

  it("reads a file whose lines end in CRLF and LF, mixed, one row a line, whole or streamed", async () => {
    const bytes = enc("ts,v\r\n1,2\n3,4\r\n5,6\n"); // cut below between the header's CR and LF
    const whole = readRecords("f.csv", bytes, undefined);
    expect(whole.malformed).toEqual([]);
    expect(whole.rows.map((r) => [r.line, r.fields["ts"], r.fields["v"]])).toEqual([
      [2, "1", "2"],
      [3, "3", "4"],
      [4, "5", "6"],
    ]);
    const streamed: ReadItem[] = [];
    for await (const batch of streamRecords("f.csv", (async function* () { yield bytes.subarray(0, 5); yield bytes.subarray(5); })(), undefined)) streamed.push(...batch);
    expect(streamed.flatMap((i) => ("row" in i ? [i.row] : []))).toEqual(whole.rows);
  });

  it("reads a file whose lines end in CR alone, as a spreadsheet writes CSV (Macintosh), whole or streamed: one row a line, none lost as the header", async () => {
    const bytes = enc('ts,d,v\r1,"two\rlines",2\r3,x,4\r\n5,y,6\r');
    const whole = readRecords("f.csv", bytes, undefined);
    expect(whole.malformed).toEqual([]);
    expect(whole.rows.map((r) => [r.line, r.fields])).toEqual([
      [3, { ts: "1", d: "two\rlines", v: "2" }],
      [4, { ts: "3", d: "x", v: "4" }],
      [5, { ts: "5", d: "y", v: "6" }],
    ]);
    // Cut after each CR, so a CR ends a piece before the LF that may follow it.
    for (let cut = 1; cut < bytes.length; cut++) {
      const streamed: ReadItem[] = [];
      for await (const batch of streamRecords("f.csv", (async function* () { yield bytes.subarray(0, cut); yield bytes.subarray(cut); })(), undefined)) streamed.push(...batch);
      expect(streamed.flatMap((i) => ("row" in i ? [i.row] : [])), `cut at ${cut}`).toEqual(whole.rows);
    }
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

  describe("streamed", () => {
    /** The bytes in pieces cut at the given offsets, as a stream would hand them over. */
    async function* pieces(bytes: Uint8Array, cuts: readonly number[]) {
      let at = 0;
      for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
        yield bytes.subarray(at, cut);
        at = cut;
      }
      yield bytes.subarray(at);
    }
    async function streamed(bytes: Uint8Array, cuts: readonly number[], format: FileFormatDescriptor | undefined) {
      const items: ReadItem[] = [];
      for await (const batch of streamRecords("x", pieces(bytes, cuts), format)) items.push(...batch);
      return { rows: items.flatMap((i) => ("row" in i ? [i.row] : [])), malformed: items.flatMap((i) => ("malformed" in i ? [i.malformed] : [])), items };
    }

    const rowsAndMalformed = ({ rows, malformed }: { rows: unknown; malformed: unknown }) => ({ rows, malformed });

    // Cells with separators, quotes, line breaks and characters of two to four bytes, so cuts fall inside them.
    const cell = fc.oneof(fc.stringMatching(/^[a-z0-9 .-]{0,6}$/), fc.constantFrom('"a,b"', '"say ""hi"""', '"two\nlines"', "é", "€uro", "😀", '"broken', ""));
    const csvText = fc
      .array(fc.tuple(fc.array(cell, { minLength: 1, maxLength: 4 }), fc.constantFrom("\n", "\r\n")), { maxLength: 25 })
      .chain((lines) => fc.constantFrom("\n", "\r\n").map((eol) => ["a,b,c" + eol, ...lines.map(([l, end]) => l.join(",") + end)].join("")));
    const jsonText = fc.array(fc.oneof(fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.oneof(fc.integer(), fc.string({ unit: "grapheme" }))).map((o) => JSON.stringify(o)), fc.constantFrom("{bad", "[1]", "", "  ")), { maxLength: 20 }).map((l) => l.join("\n"));
    const cuts = fc.array(fc.nat(), { maxLength: 12 });

    it("parses a file cut into pieces at any bytes as the whole file (property)", async () => {
      await fc.assert(
        fc.asyncProperty(csvText, cuts, async (text, at) => {
          const bytes = enc(text);
          const { rows, malformed, items } = await streamed(bytes, at, undefined);
          expect({ rows, malformed }).toEqual(readRecords("x", bytes, undefined));
          // Records that could not be read come in their place among the rows.
          const lines = items.map((i) => ("row" in i ? i.row.line : i.malformed.line));
          expect(lines).toEqual([...lines].sort((a, b) => a - b));
        }),
      );
      await fc.assert(
        fc.asyncProperty(jsonText, cuts, async (text, at) => {
          const bytes = enc(text);
          expect(rowsAndMalformed(await streamed(bytes, at, { JsonFormatDescriptor: {} }))).toEqual(readRecords("x", bytes, { JsonFormatDescriptor: {} }));
        }),
      );
    });

    it("reads bytes that are not UTF-8 as the whole file does, cut anywhere (property)", async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 80 }), cuts, async (body, at) => {
          const bytes = new Uint8Array([...enc("a,b,c\n"), ...body]);
          expect(rowsAndMalformed(await streamed(bytes, at, undefined))).toEqual(readRecords("x", bytes, undefined));
        }),
        { numRuns: 300 },
      );
    });

    it("reads a UTF-8 file that starts like a UTF-16 byte order mark as the whole file does, cut anywhere", async () => {
      for (const mark of [[0xff, 0xfe], [0xfe, 0xff]]) {
        const bytes = new Uint8Array([...mark, ...enc("ts,v\n1,2\n3,4\n")]);
        for (const at of [[], [1], [1, 2], [3, 7]]) expect(rowsAndMalformed(await streamed(bytes, at, undefined))).toEqual(readRecords("x", bytes, undefined));
      }
    });

    it("inflates a GZIP file cut anywhere, declared or told by its first bytes (property)", async () => {
      await fc.assert(
        fc.asyncProperty(csvText, cuts, fc.boolean(), async (text, at, declared) => {
          const bytes = gzipSync(enc(text));
          const format = declared ? { CsvFormatDescriptor: { FileCompression: "GZIP" as const } } : undefined;
          expect(rowsAndMalformed(await streamed(bytes, at, format))).toEqual(readRecords("x", bytes, format));
        }),
        { numRuns: 50 },
      );
    });

    /** A file that streams on past the end of a broken record: a head, then the same filler piece `count` times; `sent` counts the bytes handed over. */
    function endless(head: string, filler: string, count: number) {
      const piece = enc(filler);
      const state = { sent: 0 };
      async function* bytes() {
        state.sent += head.length;
        yield enc(head);
        for (let i = 0; i < count; i++) {
          state.sent += piece.length;
          yield piece;
        }
      }
      return { bytes: bytes(), state };
    }

    it("gives up a CSV record at MAX_RECORD_SIZE, reported once, before the file ends: a quote never closed does not hold the rest of the file", async () => {
      const file = endless('ts,v\n1,2\n3,"never closed\n', "4,5\n".repeat(16 * 1024), 64); // 4 MiB after the quote
      let reportedAt: number | undefined;
      const malformed = [];
      for await (const batch of streamRecords("big.csv", file.bytes, undefined))
        for (const item of batch)
          if ("malformed" in item) {
            reportedAt ??= file.state.sent;
            malformed.push(item.malformed);
          }
      expect(malformed).toEqual([{ file: "big.csv", line: expect.any(Number), raw: "", detail: expect.stringContaining(`a record longer than ${MAX_RECORD_SIZE} bytes`) }]);
      expect(reportedAt).toBeLessThan(2 * MAX_RECORD_SIZE);
    });

    it("gives up a JSON line at MAX_RECORD_SIZE, reported once with its start, before it ends; the lines after it are read", async () => {
      const file = endless('{"ts":1}\n{"ts":"', "x".repeat(64 * 1024), 48); // a 3 MiB line
      const tail = (async function* () {
        yield* file.bytes;
        yield enc('"}\n{"ts":3}\n');
      })();
      let reportedAt: number | undefined;
      const items: ReadItem[] = [];
      for await (const batch of streamRecords("big.jsonl", tail, { JsonFormatDescriptor: {} }))
        for (const item of batch) {
          if ("malformed" in item) reportedAt ??= file.state.sent;
          items.push(item);
        }
      expect(items).toEqual([
        { row: { file: "big.jsonl", line: 1, fields: { ts: 1 } } },
        { malformed: { file: "big.jsonl", line: 2, raw: expect.stringMatching(/^\{"ts":"x+$/), detail: `a line longer than ${MAX_RECORD_SIZE} characters: not read` } },
        { row: { file: "big.jsonl", line: 3, fields: { ts: 3 } } },
      ]);
      expect((items[1] as { malformed: { raw: string } }).malformed.raw).toHaveLength(2000);
      expect(reportedAt).toBeLessThan(2 * MAX_RECORD_SIZE);
    });

    it("reads on after a record it gave up at MAX_RECORD_SIZE with no quote in it: every row after it, at its line, in pieces of any size", async () => {
      const text = "ts,d,v\n1,a,1\n2,b," + "x".repeat(MAX_RECORD_SIZE + 1024) + "\n" + Array.from({ length: 2000 }, (_, i) => `${i + 3},c,1`).join("\n") + "\n";
      const bytes = enc(text);
      for (const size of [16 * 1024, 64 * 1024, bytes.length]) {
        const cuts = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => i * size);
        const { rows, malformed } = await streamed(bytes, cuts, undefined);
        expect(malformed).toEqual([{ file: "x", line: 3, raw: "", detail: expect.stringMatching(/a record longer than .* reading goes on at the next line/) }]);
        expect(rows.map((r) => [r.line, r.fields["ts"]])).toEqual([[2, "1"], ...Array.from({ length: 2000 }, (_, i) => [i + 4, String(i + 3)])]);
      }
      // The whole-file reader (samples) says it stops there.
      expect(readRecords("x", bytes, undefined).malformed[0]!.detail).toMatch(/the rest of the file is not read/);
    });

    it("reports a GZIP stream that breaks off as an unreadable file, and never throws on arbitrary bytes", async () => {
      const truncated = gzipSync(enc("ts,v\n1,2\n")).subarray(0, 12);
      expect((await streamed(truncated, [5], undefined)).malformed).toEqual([{ file: "x", line: 0, raw: "", detail: expect.stringMatching(/^unreadable file: not a readable GZIP file/) }]);
      expect((await streamed(enc("a\n1\n"), [], { CsvFormatDescriptor: { Charset: "no-such-charset" } })).malformed).toEqual([{ file: "x", line: 0, raw: "", detail: expect.stringMatching(/^unreadable file: cannot be decoded as no-such-charset/) }]);
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), cuts, async (bytes, at) => {
          await streamed(bytes, at, undefined);
          await streamed(bytes, at, { JsonFormatDescriptor: {} });
        }),
      );
    });
  });

  describe("a reader that stops early", () => {
    const line = "2024-01-01 00:00:00,eu,10\n";
    /** A file that never ends (GZIP: members one after another), which tells whether it was closed and how many pieces were taken from it. */
    function endless(gzip: boolean) {
      const state = { pieces: 0, closed: false };
      const rows = Buffer.from(line.repeat(2_500));
      const [first, next] = [Buffer.concat([Buffer.from("timestamp,region,revenue\n"), rows]), rows].map((b) => (gzip ? gzipSync(b) : b));
      const chunks = (async function* () {
        try {
          for (;;) {
            state.pieces++;
            yield state.pieces === 1 ? first! : next!;
          }
        } finally {
          state.closed = true;
        }
      })();
      return { chunks, state };
    }

    it.each([false, true])("closes the file it reads, and inflates no further (GZIP: %s)", async (gzip) => {
      const { chunks, state } = endless(gzip);
      let rows = 0;
      for await (const batch of streamRecords("x", chunks, undefined)) {
        rows += batch.length;
        if (rows >= 10_000) break;
      }
      expect(state.closed).toBe(true);
      const taken = state.pieces;
      await new Promise((r) => setImmediate(r));
      expect(state.pieces).toBe(taken);
    });

    it.each([false, true])("readHead answers the first whole lines within its limits, of a file that never ends (GZIP: %s)", async (gzip) => {
      const byBytes = endless(gzip);
      const head = await readHead(byBytes.chunks, {}, { bytes: 10_000, lines: 1_000 });
      expect(head).toMatchObject({ gzipped: gzip, cut: true });
      expect(head.text.length).toBeLessThanOrEqual(10_000);
      expect(head.text.length).toBeGreaterThan(10_000 - line.length);
      expect(head.text.split("\n").slice(1, -1).every((l) => `${l}\n` === line)).toBe(true);
      expect(head.text.endsWith("\n")).toBe(true);
      expect(byBytes.state.closed).toBe(true);

      const byLines = endless(gzip);
      const lines = await readHead(byLines.chunks, {}, { bytes: 1_000_000, lines: 10 });
      expect(lines.cut).toBe(true);
      expect(lines.text.split("\n").length).toBeGreaterThan(10);
      expect(byLines.state.closed).toBe(true);
    });

    it("readHead reads a short file whole, and refuses a broken GZIP stream or an unknown charset", async () => {
      const one = (b: Uint8Array) =>
        (async function* () {
          yield b;
        })();
      expect(await readHead(one(gzipSync("a,b\n1,2")))).toEqual({ text: "a,b\n1,2", gzipped: true, cut: false });
      await expect(readHead(one(gzipSync("a,b\n1,2").subarray(0, 12)))).rejects.toMatchObject({ code: "UnreadableFile", message: expect.stringMatching(/not a readable GZIP file/) });
      await expect(readHead(one(enc("a,b")), { Charset: "no-such-charset" })).rejects.toMatchObject({ code: "UnreadableFile", message: expect.stringMatching(/cannot be decoded as no-such-charset/) });
    });

    /** 4 MiB of GZIP that inflates to nothing: empty members one after another, or one member's header with a file name that long. */
    const NOTHING = 4 * 1024 * 1024;
    const emptyMembers = (before: string, after: string) => Buffer.concat([gzipSync(before), ...Array.from<Buffer>({ length: NOTHING / 20 }).fill(gzipSync("")), gzipSync(after)]);
    function longName(before: string, after: string) {
      const member = gzipSync(after);
      // FLG.FNAME: a NUL-ended name follows the 10-byte header.
      const header = Buffer.from(member.subarray(0, 10));
      header[3]! |= 0x08;
      return Buffer.concat([gzipSync(before), header, Buffer.alloc(NOTHING, "a"), Buffer.alloc(1), member.subarray(10)]);
    }
    const PIECE = 16 * 1024;
    /** The file in pieces, counting the bytes taken from it. */
    function counted(bytes: Uint8Array) {
      const state = { pulled: 0, closed: false };
      const chunks = (async function* () {
        try {
          for (let at = 0; at < bytes.length; at += PIECE) {
            state.pulled += Math.min(PIECE, bytes.length - at);
            yield bytes.subarray(at, at + PIECE);
          }
        } finally {
          state.closed = true;
        }
      })();
      return { chunks, state };
    }
    const BUDGET = 256 * 1024;
    // The bytes are counted as they are taken from the file, ahead of their inflating by zlib's input buffer (16 KiB) and a piece or two.
    const AHEAD = 4 * PIECE;

    it.each([
      ["empty members", emptyMembers],
      ["a header's long file name", longName],
    ])("charges a budget the bytes of a GZIP file that inflate to nothing (%s): it is read no further than a record past the budget", async (_, make) => {
      const { chunks, state } = counted(make("timestamp,region,revenue\n2024-01-01 00:00:00,eu,1\n", "2024-01-01 01:00:00,eu,2\n"));
      const budget = new ReadBudget(BUDGET);
      const items: ReadItem[] = [];
      for await (const batch of streamRecords("x", chunks, undefined, budget)) items.push(...batch);
      expect(state.pulled).toBeLessThanOrEqual(BUDGET + MAX_RECORD_SIZE + AHEAD);
      expect(state.closed).toBe(true);
      expect(budget.exceeded).toBe(true);
      expect(items).toEqual([
        { row: expect.objectContaining({ line: 2, fields: { timestamp: "2024-01-01 00:00:00", region: "eu", revenue: "1" } }) },
        { malformed: expect.objectContaining({ line: 0, detail: expect.stringMatching(/^unreadable file: read no further than the line at byte 50: .*compressed or inflated/) }) },
      ]);
    });

    it.each([
      ["empty members", emptyMembers],
      ["a header's long file name", longName],
    ])("does not take the start of a line a GZIP file's budget ran out in for a whole row (%s), in either format", async (_, make) => {
      // A whole row (revenue 5), then the start of one (revenue 1) whose end (2) comes after nothing.
      for (const [format, whole, five, start, end] of [
        [undefined, "timestamp,region,revenue\n2024-01-01 00:00:00,eu,5\n", "5", "2024-01-01 01:00:00,eu,1", "2\n"],
        [{ JsonFormatDescriptor: {} }, '{"revenue":5}\n', 5, '{"timestamp":"2024-01-01 01:00:00","revenue":1', "2}\n"],
      ] as const) {
        const items: ReadItem[] = [];
        for await (const batch of streamRecords("x", counted(make(whole + start, end)).chunks, format, new ReadBudget(BUDGET))) items.push(...batch);
        expect(items).toEqual([{ row: expect.objectContaining({ fields: expect.objectContaining({ revenue: five }) }) }, { malformed: expect.objectContaining({ line: 0, detail: expect.stringMatching(/^unreadable file: read no further/) }) }]);
      }
    });

    it.each([
      ["empty members", emptyMembers],
      ["a header's long file name", longName],
    ])("readHead reads no more of a GZIP file that inflates to nothing than its bytes (%s)", async (_, make) => {
      const { chunks, state } = counted(make("timestamp,region,revenue\n", "2024-01-01 00:00:00,eu,1\n"));
      const head = await readHead(chunks, {}, { bytes: BUDGET, lines: 1_000 });
      expect(head).toEqual({ text: "timestamp,region,revenue\n", gzipped: true, cut: true });
      expect(state.pulled).toBeLessThanOrEqual(BUDGET + AHEAD);
      expect(state.closed).toBe(true);
    });

    it("inflates a whole file read at once no further than its bound", () => {
      expect(() => decodeFile(gzipSync(Buffer.alloc(100_000, line)), "GZIP", "utf-8", 10_000)).toThrow(/not a readable GZIP file \(it inflates to more than 10000 bytes\)/);
      expect(decodeFile(gzipSync(Buffer.alloc(10_000, line)), "GZIP", "utf-8", 10_000)).toHaveLength(10_000);
    });
  });
});
