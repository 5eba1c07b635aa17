import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { aggregateRows, Aggregator, cellsAt, cellValue, type IntervalCells } from "../../../shared/ingest/aggregate.ts";
import { dimensionsOfKey, seriesKeyOf } from "../../../shared/ingest/series-key.ts";
import { OTHER_FILES, REJECT_LIMITS } from "../../../shared/ingest/rejects.ts";
import { MAX_RECORD_SIZE, readRecords, streamRecords, type RawRow } from "../../../shared/ingest/readers.ts";
import { classifyRow, MAX_SERIES_KEY_LENGTH, rowSpecOf, type RowSpec } from "../../../shared/ingest/rows.ts";
import { makeTimestampParser, MAX_PATTERN_CELL } from "../../../shared/ingest/timestamp.ts";
import { MAX_MEASURE } from "../../../shared/ingest/rows.ts";
import { Learning } from "../../../shared/engine/step.ts";
import { HOUR } from "../../builders.ts";

const spec = (filter?: string[]) =>
  rowSpecOf(
    {
      TimestampColumn: { ColumnName: "ts" },
      DimensionList: ["market"],
      MetricList: [
        { MetricName: "views", AggregationFunction: "SUM" },
        { MetricName: "price", AggregationFunction: "AVG" },
      ],
      ...(filter ? { DimensionFilterList: [{ Name: "market", FilterList: filter.map((DimensionValue) => ({ DimensionValue })) }] } : {}),
    },
    makeTimestampParser(undefined),
  );

let line = 1;
const row = (fields: Record<string, unknown>): RawRow => ({ file: "f.csv", line: ++line, fields });
const T = Date.UTC(2021, 0, 1, 10);
const ts = (ms: number) => new Date(ms).toISOString();

/** The aggregate as plainly as it can be written: a Map of intervals, each a Map of cells, each cell its own arrays. */
function plainIntervals(rows: readonly RawRow[], rowSpec: RowSpec, intervalMs: number): [number, [string, { dimensions: readonly string[]; sums: number[]; counts: number[] }][]][] {
  const intervals = new Map<number, IntervalCells>();
  for (const raw of rows) {
    const verdict = classifyRow(raw, rowSpec);
    if (!verdict.ok) continue;
    const start = Math.floor(verdict.timestamp / intervalMs) * intervalMs;
    if (!intervals.has(start)) intervals.set(start, new Map());
    const cells = intervals.get(start)!;
    const key = seriesKeyOf(verdict.dimensions);
    if (!cells.has(key)) cells.set(key, { dimensions: verdict.dimensions, sums: rowSpec.measures.map(() => 0), counts: rowSpec.measures.map(() => 0) });
    const cell = cells.get(key)!;
    verdict.values.forEach((v, m) => {
      if (v === undefined) return;
      cell.sums[m]! += v;
      cell.counts[m]!++;
    });
  }
  return [...intervals].map(([start, cells]) => [start, [...cells]]);
}

describe("aggregation", () => {
  it("sums SUM measures and averages AVG measures per series and interval", () => {
    const rows = [
      row({ ts: ts(T), market: "de", views: "10", price: "2" }),
      row({ ts: ts(T + 60_000), market: "de", views: "5", price: "4" }),
      row({ ts: ts(T), market: "fr", views: "1", price: "1" }),
      row({ ts: ts(T + HOUR), market: "de", views: "7", price: "9" }),
    ];
    const agg = aggregateRows(rows, [], spec(), { intervalMs: HOUR });
    const de = agg.intervals.get(T)!.get(seriesKeyOf(["de"]))!;
    expect(cellValue(de, 0, "SUM")).toBe(15);
    expect(cellValue(de, 1, "AVG")).toBe(3);
    expect(cellValue(agg.intervals.get(T + HOUR)!.get("de")!, 0, "SUM")).toBe(7);
    expect(agg.quality).toMatchObject({ rowsRead: 4, rowsAccepted: 4, rowsRejected: 0, timeSeriesCount: 4, dimensionUniqueness: { market: 2 } });
  });

  it("keeps every unusable row with its reason, and uses the good measures of a partial row", () => {
    const rows = [
      row({ ts: ts(T), market: "de", views: "10", price: "abc" }),
      row({ ts: "not a time", market: "de", views: "1", price: "1" }),
      row({ ts: ts(T + 2 * HOUR), market: "de", views: "1", price: "1" }),
      row({ ts: ts(T), market: "", views: "1", price: "1" }),
      row({ ts: ts(T), views: "1", price: "1" }),
      row({ ts: ts(T), market: "it", views: "1", price: "1" }),
      row({ ts: ts(T), market: "de", views: "", price: "" }),
    ];
    const agg = aggregateRows(rows, [{ file: "f.csv", line: 99, raw: '"x', detail: "Quote Not Closed" }], spec(["de", "fr"]), { intervalMs: HOUR, window: { from: T, to: T + HOUR } });
    expect(agg.quality.rowsRead).toBe(8);
    expect(agg.quality.rowsAccepted).toBe(1);
    expect(agg.quality.rowsPartial).toBe(1);
    expect(agg.quality.rejectsByReason).toMatchObject({
      MALFORMED_RECORD: 1,
      NON_NUMERIC_MEASURE: 1,
      INVALID_TIMESTAMP: 1,
      OUTSIDE_INTERVAL: 1,
      MISSING_DIMENSION_VALUE: 1,
      MISSING_COLUMN: 1,
      FILTERED_DIMENSION_VALUE: 1,
      MISSING_MEASURE_VALUE: 1,
    });
    const de = agg.intervals.get(T)!.get("de")!;
    expect(cellValue(de, 0, "SUM")).toBe(10);
    expect(cellValue(de, 1, "AVG")).toBeUndefined();
    expect(agg.rejects.find((r) => r.reason === "NON_NUMERIC_MEASURE")).toMatchObject({ partial: true, line: rows[0]!.line, detail: "measure 'price' = 'abc' is not a number" });
    // The time as the row writes it: a zone's day is read as its date there, which no instant would say.
    expect(agg.rejects.find((r) => r.reason === "OUTSIDE_INTERVAL")?.detail).toBe(`'${ts(T + 2 * HOUR)}' is outside the interval [${new Date(T).toISOString()}, ${new Date(T + HOUR).toISOString()})`);
  });

  it("keeps aside, with its reason, a row holding a JSON object or array where a value goes, and reads its neighbours", () => {
    // String() of {"toString":0} throws, and of {} or [a, b] makes a value of "[object Object]" or "a,b".
    const hostile = { toString: 0 };
    const rows = [
      row({ ts: ts(T), market: "de", views: "1", price: "1" }),
      row({ ts: ts(T), market: hostile, views: "1", price: "1" }),
      row({ ts: hostile, market: "de", views: "1", price: "1" }),
      row({ ts: ts(T), market: "de", views: hostile, price: "2" }),
      row({ ts: ts(T), market: { a: 1 }, views: "1", price: "1" }),
      row({ ts: ts(T), market: ["d", "e"], views: "1", price: "1" }),
      row({ ts: [ts(T)], market: "de", views: [5], price: "1" }),
      row({ ts: ts(T), market: "fr", views: "1", price: "1" }),
    ];
    const agg = aggregateRows(rows, [], spec(), { intervalMs: HOUR, window: { from: T, to: T + HOUR } });
    expect(agg.quality).toMatchObject({ rowsRead: 8, rowsAccepted: 3, rowsPartial: 1, rowsRejected: 5, dimensionUniqueness: { market: 2 } });
    expect(agg.rejects.map((r) => [r.line, r.reason, r.partial, r.detail])).toEqual([
      [rows[1]!.line, "MALFORMED_RECORD", false, "dimension 'market' holds a JSON object, not a value"],
      [rows[2]!.line, "INVALID_TIMESTAMP", false, "a JSON object is not a timestamp"],
      [rows[3]!.line, "NON_NUMERIC_MEASURE", true, "measure 'views' = a JSON object is not a number"],
      [rows[4]!.line, "MALFORMED_RECORD", false, "dimension 'market' holds a JSON object, not a value"],
      [rows[5]!.line, "MALFORMED_RECORD", false, "dimension 'market' holds a JSON array, not a value"],
      [rows[6]!.line, "INVALID_TIMESTAMP", false, "a JSON array is not a timestamp"],
    ]);
    expect(agg.rejects[0]!.row).toBe(rows[1]!.fields);
    expect(cellValue(agg.intervals.get(T)!.get("de")!, 1, "AVG")).toBe(1.5);
  });

  it("keeps aside a CSV row whose header names a column it uses twice, with cells that differ, whole or streamed; reads those whose cells agree or whose twice-named column is not used", async () => {
    const text = [
      "ts,market,views,price,views,note,note",
      `${ts(T)},de,1,2,1,a,b`, // views agree; note, not used, differs
      `${ts(T)},de,5,2,7,a,a`, // views differ: which is meant?
      `${ts(T)},fr,3,4,3`, // short: note's cells absent
    ].join("\n");
    const bytes = new TextEncoder().encode(text);
    const whole = readRecords("f.csv", bytes, undefined);
    const streamed: RawRow[] = [];
    for await (const batch of streamRecords("f.csv", (async function* () { yield bytes; })(), undefined)) for (const item of batch) if ("row" in item) streamed.push(item.row);
    expect(streamed).toEqual(whole.rows);
    const named = readRecords("f.csv", bytes, { CsvFormatDescriptor: { HeaderList: ["ts", "market", "views", "price", "views", "note", "note"] } });
    expect(named.rows).toEqual(whole.rows);
    const agg = aggregateRows(whole.rows, whole.malformed, spec(), { intervalMs: HOUR });
    expect(agg.quality).toMatchObject({ rowsRead: 3, rowsAccepted: 2, rowsRejected: 1 });
    expect(agg.rejects.map((r) => [r.line, r.reason, r.detail])).toEqual([[3, "MALFORMED_RECORD", "the header names column 'views' more than once, and its cells differ in this row: which is its value cannot be told"]]);
    expect(cellValue(agg.intervals.get(T)!.get("de")!, 0, "SUM")).toBe(1);
    expect(cellValue(agg.intervals.get(T)!.get("fr")!, 0, "SUM")).toBe(3);
  });

  it("keeps aside, with why, a figure beyond what the engine scores (its state keeps 32-bit floats, which one such value would make NaN for good)", () => {
    const rows = [row({ ts: ts(T), market: "de", views: "1e31", price: "1" }), row({ ts: ts(T), market: "de", views: -1e39, price: "1" }), row({ ts: ts(T), market: "de", views: "1e30", price: "1" })];
    const agg = aggregateRows(rows, [], spec(), { intervalMs: HOUR, window: { from: T, to: T + HOUR } });
    expect(agg.rejects.map((r) => [r.line, r.reason, r.partial, r.detail])).toEqual([
      [rows[0]!.line, "NON_NUMERIC_MEASURE", true, `measure 'views' = '1e31' is beyond ±${MAX_MEASURE}, the largest value Vigil scores`],
      [rows[1]!.line, "NON_NUMERIC_MEASURE", true, `measure 'views' = '-1e+39' is beyond ±${MAX_MEASURE}, the largest value Vigil scores`],
    ]);
    expect(MAX_MEASURE).toBe(Learning.MAX_VALUE);
  });

  it("keeps aside as no timestamp a cell too long to hand luxon's pattern reader, though the pattern fits it", () => {
    const pad = "x".repeat(MAX_PATTERN_CELL - "2021-01-01 ".length);
    const patterned = (format: string) => rowSpecOf({ TimestampColumn: { ColumnName: "ts", ColumnFormat: format }, DimensionList: ["market"], MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }] }, makeTimestampParser(format));
    expect(classifyRow(row({ ts: `2021-01-01 ${pad}`, market: "de", views: "1" }), patterned(`yyyy-MM-dd '${pad}'`))).toMatchObject({ ok: true, timestamp: Date.UTC(2021, 0, 1) });
    const long = row({ ts: `2021-01-01 ${pad}x`, market: "de", views: "1" });
    expect(classifyRow(long, patterned(`yyyy-MM-dd '${pad}x'`))).toEqual({ ok: false, rejected: { file: long.file, line: long.line, reason: "INVALID_TIMESTAMP", detail: `'2021-01-01 ${pad}x' is not a timestamp`, partial: false, row: long.fields } });
  });

  it("tells a record that could not be read (any line, even with no text kept) from a file that could not be (line 0)", () => {
    const malformed = [
      { file: "f.csv", line: 7, raw: "", detail: "Invalid Opening Quote" },
      { file: "g.csv", line: 0, raw: "", detail: "unreadable file: not a readable GZIP file" },
    ];
    const agg = aggregateRows([], malformed, spec(["de"]), { intervalMs: HOUR, window: { from: T, to: T + HOUR } });
    expect(agg.rejects.map((r) => [r.file, r.line, r.reason])).toEqual([
      ["f.csv", 7, "MALFORMED_RECORD"],
      ["g.csv", 0, "UNREADABLE_FILE"],
    ]);
  });

  it("accounts for every row: accepted + rejected = read (property)", () => {
    const cellArb = fc.oneof(fc.constant(""), fc.constant("x"), fc.integer({ min: -5, max: 5 }).map(String), fc.double({ noNaN: true }).map(String));
    const rowArb = fc.record({
      ts: fc.oneof(fc.constant("bad"), fc.integer({ min: 0, max: 5 }).map((h) => ts(T + h * HOUR))),
      market: fc.constantFrom("de", "fr", ""),
      views: cellArb,
      price: cellArb,
    });
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), (fields) => {
        const agg = aggregateRows(fields.map(row), [], spec(), { intervalMs: HOUR, window: { from: T, to: T + 3 * HOUR } });
        const q = agg.quality;
        expect(q.rowsAccepted + q.rowsRejected).toBe(q.rowsRead);
        expect(agg.rejects.filter((r) => !r.partial)).toHaveLength(q.rowsRejected);
        for (const cells of agg.intervals.values()) for (const c of cells.values()) for (const v of c.sums) expect(Number.isFinite(v)).toBe(true);
      }),
    );
  });

  it("keeps in its columns exactly what a plain Map of cells would, in the same order (property)", () => {
    // Enough series × intervals to outgrow the columns' first size and rehash their table, rows in any order.
    const rowArb = fc.record({
      ts: fc.oneof(fc.constant("bad"), fc.integer({ min: -3, max: 40 }).map((h) => ts(T + h * 7 * 60_000))),
      market: fc.oneof(fc.constant(""), fc.integer({ min: 0, max: 12 }).map((n) => `m${n}`)),
      views: fc.oneof(fc.constant(""), fc.constant("x"), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map(String)),
      price: fc.oneof(fc.constant(""), fc.integer({ min: -50, max: 50 }).map(String)),
    });
    const rowSpec = spec();
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 400 }), fc.constantFrom(HOUR, 15 * 60_000), (fields, intervalMs) => {
        const rows = fields.map(row);
        const agg = aggregateRows(rows, [], rowSpec, { intervalMs });
        const plain = plainIntervals(rows, rowSpec, intervalMs);
        expect([...agg.intervals].map(([start, cells]) => [start, [...cells]])).toEqual(plain);
        expect([...agg.intervals.keys()]).toEqual(plain.map(([start]) => start));
        expect(agg.intervals.size).toBe(plain.length);
        for (const [start, cells] of plain) {
          expect([...agg.intervals.get(start)!]).toEqual(cells);
          // Walked through one reused cell: the same cells, in the same order.
          const walked: (typeof cells)[number][] = [];
          cellsAt(agg.intervals, start)!.forEach((cell, key) => walked.push([key, { dimensions: cell.dimensions, sums: [...cell.sums], counts: [...cell.counts] }]));
          expect(walked).toEqual(cells);
        }
        expect(cellsAt(agg.intervals, T - HOUR * 1000)).toBeUndefined();
        expect(agg.intervals.get(T - HOUR * 1000)).toBeUndefined();
        expect(agg.quality.timeSeriesCount).toBe(new Set(plain.flatMap(([, cells]) => cells.map(([key]) => key))).size * rowSpec.measures.length);
      }),
      { numRuns: 200 },
    );
  });
  describe("rejected rows past the limits", () => {
    const bad = (file: string, line: number, views = "x"): RawRow => ({ file, line, fields: { ts: ts(T), market: "de", views, price: "" } });
    const aggregatorOf = (limits: typeof REJECT_LIMITS) => new Aggregator(spec(), { intervalMs: HOUR, window: { from: T, to: T + HOUR }, rejectLimits: limits });

    it("keeps the first rows within the count, and counts the rest per file and reason with their first and last line", () => {
      const agg = aggregatorOf({ rows: 100, bytes: REJECT_LIMITS.bytes, summaries: 1_000 });
      for (let i = 0; i < 5_000; i++) agg.add(bad("a.csv", i + 2));
      for (let i = 0; i < 3_000; i++) agg.add({ file: "b.csv", line: i + 2, fields: { ts: "never", market: "de", views: "1", price: "1" } });
      agg.add({ file: "b.csv", line: 3_002, fields: { ts: ts(T), market: "de", views: "1", price: "x" } });
      agg.malformed({ file: "c.csv", line: 0, raw: "", detail: "unreadable file: not a readable GZIP file" });
      const { rejects, rejectsNotKept, quality } = agg.finish(3);
      expect(rejects).toHaveLength(100);
      expect(rejects.map((r) => r.line)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
      expect(rejectsNotKept.map(({ detail, ...count }) => count)).toEqual([
        { file: "a.csv", reason: "NON_NUMERIC_MEASURE", partial: false, notKept: 4_900, firstLine: 102, lastLine: 5_001 },
        { file: "b.csv", reason: "INVALID_TIMESTAMP", partial: false, notKept: 3_000, firstLine: 2, lastLine: 3_001 },
        { file: "b.csv", reason: "NON_NUMERIC_MEASURE", partial: true, notKept: 1, firstLine: 3_002, lastLine: 3_002 },
        { file: "c.csv", reason: "UNREADABLE_FILE", partial: false, notKept: 1, firstLine: 0, lastLine: 0 },
      ]);
      expect(rejectsNotKept[0]!.detail).toMatch(/4900 more rejected rows .* not kept: the first 100 rejected rows.* are kept; the source file itself is left where it is/);
      // The figures count every row, kept or not.
      expect(quality).toMatchObject({ rowsRead: 8_002, rowsAccepted: 1, rowsPartial: 1, rowsRejected: 8_001, rejectsNotKept: 7_902 });
      expect(quality.rejectsByReason).toMatchObject({ NON_NUMERIC_MEASURE: 5_001, INVALID_TIMESTAMP: 3_000, UNREADABLE_FILE: 1 });
    });

    it("keeps rows within the byte limit however long they are, up to records of MAX_RECORD_SIZE, with the real limits", () => {
      const agg = aggregatorOf(REJECT_LIMITS);
      const long = "x".repeat(MAX_RECORD_SIZE - 100);
      for (let i = 0; i < 40; i++) agg.add({ file: "long.csv", line: i + 2, fields: { ts: "never", market: "de", views: "1", price: "1", note: long } });
      const { rejects, rejectsNotKept, quality } = agg.finish(1);
      const kept = rejects.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)) + 1, 0);
      expect(kept).toBeLessThanOrEqual(REJECT_LIMITS.bytes);
      expect(rejects.length).toBeGreaterThanOrEqual(7);
      expect(rejectsNotKept).toMatchObject([{ file: "long.csv", notKept: 40 - rejects.length, firstLine: rejects.length + 2, lastLine: 41 }]);
      expect(quality).toMatchObject({ rowsRejected: 40, rejectsNotKept: 40 - rejects.length, rejectsByReason: { INVALID_TIMESTAMP: 40 } });
    });

    it("counts per reason alone the rows of files past the summaries' limit", () => {
      const agg = aggregatorOf({ rows: 1, bytes: REJECT_LIMITS.bytes, summaries: 2 });
      for (let f = 0; f < 5; f++) for (let i = 0; i < 10; i++) agg.add(bad(`f${f}.csv`, i + 2));
      const { rejectsNotKept, quality } = agg.finish(5);
      expect(rejectsNotKept.map((s) => [s.file, s.notKept])).toEqual([
        ["f0.csv", 9],
        ["f1.csv", 10],
        [OTHER_FILES, 30],
      ]);
      expect(quality.rejectsNotKept).toBe(49);
    });
  });

  it("keeps aside a row whose dimension values hold more than MAX_SERIES_KEY_LENGTH characters, before they reach a Set or Map", () => {
    // V8 hashes a string of 16,384 code units or more by its length alone: 4,000 rows of distinct 17,000-character values took 55 s to aggregate.
    const rows = Array.from({ length: 50 }, (_, i) => row({ ts: ts(T), market: "m".repeat(17_000) + String(i).padStart(3, "0"), views: "1", price: "2" }));
    const fits = row({ ts: ts(T), market: "m".repeat(MAX_SERIES_KEY_LENGTH), views: "1", price: "2" });
    const add = vi.spyOn(Set.prototype, "add");
    const set = vi.spyOn(Map.prototype, "set");
    try {
      const agg = aggregateRows([...rows, fits], [], spec(), { intervalMs: HOUR, window: { from: T, to: T + HOUR } });
      expect([...add.mock.calls, ...set.mock.calls].filter(([k]) => typeof k === "string" && k.length >= 16_384)).toEqual([]);
      expect(agg.quality.rejectsByReason).toMatchObject({ DIMENSION_VALUES_TOO_LONG: 50 });
      expect(agg.quality.rowsAccepted).toBe(1);
      expect(agg.rejects[0]).toMatchObject({ reason: "DIMENSION_VALUES_TOO_LONG", line: rows[0]!.line, detail: expect.stringContaining(`more than ${MAX_SERIES_KEY_LENGTH} characters`) });
    } finally {
      add.mockRestore();
      set.mockRestore();
    }
  });

  it("keys every combination of dimension values apart, and reads its values back from its key (property)", () => {
    const value = fc.string({ unit: fc.constantFrom("a", "b", "\u001f", '"', "\\", "[", "é"), maxLength: 4 });
    fc.assert(
      fc.property(fc.array(value, { maxLength: 4 }), fc.array(value, { maxLength: 4 }), (a, b) => {
        expect(dimensionsOfKey(seriesKeyOf(a))).toEqual(a);
        expect(seriesKeyOf(a) === seriesKeyOf(b)).toBe(a.length === b.length && a.every((v, i) => v === b[i]));
      }),
      { numRuns: 2000 },
    );
    // Values without the separator are joined, as every key was before.
    expect(seriesKeyOf(["web", "de"])).toBe("web\u001fde");
    expect(seriesKeyOf(["a\u001fb", "c"])).not.toBe(seriesKeyOf(["a", "b\u001fc"]));
  });

  it("sums rows whose values join alike as two series, each with its own dimension values", () => {
    const rowSpec = rowSpecOf({ TimestampColumn: { ColumnName: "ts" }, DimensionList: ["market", "device"], MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }] }, makeTimestampParser(undefined));
    const rows = [row({ ts: ts(T), market: "de\u001fx", device: "ios", views: "1" }), row({ ts: ts(T), market: "de", device: "x\u001fios", views: "2" }), row({ ts: ts(T), market: "de", device: "x\u001fios", views: "4" })];
    const agg = aggregateRows(rows, [], rowSpec, { intervalMs: HOUR });
    const cells: [readonly string[], number][] = [];
    cellsAt(agg.intervals, T)!.forEach((cell) => cells.push([[...cell.dimensions], cell.sums[0]!]));
    expect(cells).toEqual([
      [["de\u001fx", "ios"], 1],
      [["de", "x\u001fios"], 6],
    ]);
    expect(agg.quality.timeSeriesCount).toBe(2);
  });

  it("keeps aside a row whose series key in JSON (a value holds U+001F) would pass MAX_SERIES_KEY_LENGTH, though its values do not", () => {
    // Each U+0001 is six characters in JSON: the key would be 49,158 long, past the 16,384 from which V8 hashes by length alone.
    const long = "\u001f" + "\u0001".repeat(MAX_SERIES_KEY_LENGTH - 1);
    const fits = "\u001f" + "\u0001".repeat(1000);
    const rows = [row({ ts: ts(T), market: long, views: "1", price: "2" }), row({ ts: ts(T), market: fits, views: "1", price: "2" })];
    const agg = aggregateRows(rows, [], spec(), { intervalMs: HOUR, window: { from: T, to: T + HOUR } });
    expect(agg.quality.rejectsByReason).toMatchObject({ DIMENSION_VALUES_TOO_LONG: 1 });
    expect(agg.rejects[0]).toMatchObject({ reason: "DIMENSION_VALUES_TOO_LONG", line: rows[0]!.line, detail: expect.stringContaining("series key holds more than") });
    const keys: string[] = [];
    cellsAt(agg.intervals, T)!.forEach((_, key) => keys.push(key));
    expect(keys).toEqual([seriesKeyOf([fits])]);
    expect(keys[0]!.length).toBeLessThanOrEqual(MAX_SERIES_KEY_LENGTH);
  });

  it("numbers many series of several dimensions as a Map would, values holding the key's separator included (property)", () => {
    // Past the series table's first size (it rehashes at 64 series), with values the key cannot split back into.
    const rowSpec = rowSpecOf({ TimestampColumn: { ColumnName: "ts" }, DimensionList: ["market", "device"], MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }] }, makeTimestampParser(undefined));
    const rowArb = fc.record({
      ts: fc.integer({ min: 0, max: 2 }).map((h) => ts(T + h * HOUR)),
      // m1␟a with b joins as m1 with a␟b does: each is a series of its own.
      market: fc.integer({ min: 0, max: 150 }).map((n) => (n % 17 === 0 ? `m\u001f${n}` : n % 13 === 0 ? `m${n % 4}\u001fa` : `m${n}`)),
      device: fc.constantFrom("ios", "web", "a\u001fb", "\u001f", "b"),
      views: fc.integer({ min: 0, max: 9 }).map(String),
    });
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 100, maxLength: 600 }), (fields) => {
        const rows = fields.map(row);
        const agg = aggregateRows(rows, [], rowSpec, { intervalMs: HOUR });
        const plain = plainIntervals(rows, rowSpec, HOUR);
        for (const [start, cells] of plain) {
          const walked: (typeof cells)[number][] = [];
          cellsAt(agg.intervals, start)!.forEach((cell, key) => walked.push([key, { dimensions: [...cell.dimensions], sums: [...cell.sums], counts: [...cell.counts] }]));
          expect(walked).toEqual(cells);
          expect([...agg.intervals.get(start)!]).toEqual(cells);
        }
        expect(agg.quality.timeSeriesCount).toBe(new Set(plain.flatMap(([, cells]) => cells.map(([key]) => key))).size);
      }),
      { numRuns: 60 },
    );
  });
});
