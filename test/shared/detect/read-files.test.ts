import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readAndAggregate, readInterval, ReadStopped, type FileReader } from "../../../shared/detect/read-files.ts";
import { FILE_READ_COST, MAX_RECORD_SIZE } from "../../../shared/ingest/readers.ts";
import { csvOf, HOUR, readableMetricSet, shopPoints, T0 } from "../../builders.ts";

const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const encoder = new TextEncoder();

/** Files `a` and `b`, each streamed in `pieces` pieces of 10 hours of rows (a header first); `pulled` calls `onPiece` with each file and piece asked for, and `closed` says which streams were ended. */
function piecedFiles(pieces: number, onPiece: (file: string, piece: number) => void = () => {}) {
  const closed: string[] = [];
  const pulled: string[] = [];
  const blobs: FileReader = {
    get: async () => undefined,
    list: async () => ["a", "b"],
    read: async (file) =>
      (async function* () {
        try {
          for (let p = 0; p < pieces; p++) {
            pulled.push(`${file}${p}`);
            onPiece(file, p);
            const text = csvOf(shopPoints(T0 + p * 10 * HOUR, 10, SERIES));
            yield encoder.encode(p === 0 ? text : text.slice(text.indexOf("\n") + 1));
          }
        } finally {
          closed.push(file);
        }
      })(),
  };
  return { blobs, closed, pulled };
}

describe("reading files with a stop signal", () => {
  it("reads every piece of every file while the signal is not aborted", async () => {
    const { blobs, pulled } = piecedFiles(3);
    const read = await readAndAggregate(blobs, readableMetricSet(), ["h/"], { signal: new AbortController().signal });
    expect(pulled).toEqual(["a0", "a1", "a2", "b0", "b1", "b2"]);
    expect(read.quality.rowsRead).toBe(2 * 3 * 10 * SERIES.length);
  });

  it("stops between two pieces of a file once aborted, closing its stream, and says how far it read", async () => {
    const stop = new AbortController();
    const { blobs, closed, pulled } = piecedFiles(5, (file, piece) => file === "a" && piece === 2 && stop.abort());
    const stopped = await readAndAggregate(blobs, readableMetricSet(), ["h/"], { signal: stop.signal }).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(ReadStopped);
    // The rows of the two pieces read before it (a piece's last row is parsed as the next comes): none of any later piece or file.
    const { files, rows } = stopped as ReadStopped;
    expect(files).toBe(1);
    expect(rows).toBeGreaterThan(10 * SERIES.length);
    expect(rows).toBeLessThanOrEqual(2 * 10 * SERIES.length);
    expect(pulled.at(-1)).toBe("a2");
    expect(closed).toEqual(["a"]);
  });

  it("opens no file once aborted", async () => {
    const stop = new AbortController();
    stop.abort();
    const { blobs, pulled } = piecedFiles(1);
    await expect(readAndAggregate(blobs, readableMetricSet(), ["h/"], { signal: stop.signal })).rejects.toMatchObject({ files: 0, rows: 0 });
    expect(pulled).toEqual([]);
  });
});

describe("reading files within a byte budget", () => {
  /** A piece's bytes, as piecedFiles sends them. */
  const pieceBytes = (p: number) => {
    const text = csvOf(shopPoints(T0 + p * 10 * HOUR, 10, SERIES));
    return encoder.encode(p === 0 ? text : text.slice(text.indexOf("\n") + 1)).length;
  };

  it("reads every file whole when they fit, and says it was within the budget", async () => {
    const { blobs, pulled } = piecedFiles(3);
    const read = await readAndAggregate(blobs, readableMetricSet(), ["h/"], { maxBytes: 2 * (FILE_READ_COST + pieceBytes(0) + 2 * pieceBytes(1)) });
    expect(pulled).toEqual(["a0", "a1", "a2", "b0", "b1", "b2"]);
    expect(read.overBudget).toBe(false);
    expect(read.quality.rowsRejected).toBe(0);
  });

  it("reads the file that goes past the budget no further, closes it, reports it at line 0, and opens no other", async () => {
    const { blobs, closed, pulled } = piecedFiles(3);
    // a whole and b's first piece fit; b's second does not.
    const read = await readAndAggregate(blobs, readableMetricSet(), ["h/"], { maxBytes: 2 * FILE_READ_COST + pieceBytes(0) + 2 * pieceBytes(1) + pieceBytes(0) + 10 });
    expect(read.overBudget).toBe(true);
    expect(pulled).toEqual(["a0", "a1", "a2", "b0", "b1"]);
    expect(closed).toEqual(["a", "b"]);
    expect(read.rejects).toContainEqual(expect.objectContaining({ file: "b", line: 0, detail: expect.stringContaining("read no further than the line at byte") }));
    expect(read.quality.rowsRead - read.quality.rowsRejected).toBeLessThanOrEqual(4 * 10 * SERIES.length);
  });

  it("stops inflating a GZIP file once past the budget, pulling no more of it than the inflater had taken in", async () => {
    const stamp = new Date(T0).toISOString();
    const rows = Array.from({ length: 100_000 }, (_, i) => `${stamp},web,de,${i},${(i * 7919) % 100_003}`);
    // 4.4 MB of rows that compress only to about 590 KB: the compressed file is far longer than what zlib takes in ahead.
    const gzipped = gzipSync(`timestamp,platform,marketplace,views,revenue\n${rows.join("\n")}`);
    const PIECE = 4096;
    let pulled = 0;
    const blobs: FileReader = {
      get: async () => undefined,
      list: async () => ["big.csv.gz", "after.csv"],
      read: async (file) =>
        file === "after.csv"
          ? (async function* () {
              yield encoder.encode("never read");
            })()
          : (async function* () {
              for (let at = 0; at < gzipped.length; at += PIECE, pulled += PIECE) yield gzipped.subarray(at, at + PIECE);
            })(),
    };
    const maxBytes = 64 * 1024;
    const read = await readAndAggregate(blobs, readableMetricSet(), ["h/"], { maxBytes });
    expect(read.overBudget).toBe(true);
    expect(gzipped.length).toBeGreaterThan(500_000);
    expect(pulled).toBeLessThanOrEqual(128 * 1024);
    expect(read.quality.rowsRead).toBeLessThan(maxBytes / 30);
    expect(read.rejects.map((r) => r.file)).not.toContain("after.csv");
  });
});

describe("reading many small files within a byte budget", () => {
  it("counts opening a file against the budget: an interval of thousands of tiny files does not open them all", async () => {
    // Each file a GET of its own (in S3, tens of ms), holding a few bytes: 250,000 may be listed under one interval's folder.
    const files = Array.from({ length: 5_000 }, (_, i) => `h/f${String(i).padStart(5, "0")}.csv`);
    let opened = 0;
    const blobs: FileReader = {
      get: async () => undefined,
      list: async () => files,
      read: async () => {
        opened++;
        return (async function* () {
          yield encoder.encode("x\n");
        })();
      },
    };
    const maxBytes = 64 * 1024;
    const read = await readAndAggregate(blobs, readableMetricSet(), ["h/"], { maxBytes });
    // 5,000 files of 2 bytes are 10 KB as read: each counts FILE_READ_COST, so few are opened.
    expect(opened).toBeLessThan(files.length);
    expect(read.overBudget).toBe(true);
  });
});

/** One file, a.csv, whose bytes come in the pieces given. */
const oneFileIn = (...pieces: Uint8Array[]): FileReader => ({
  get: async () => undefined,
  list: async () => ["a.csv"],
  read: async () =>
    (async function* () {
      yield* pieces;
    })(),
});
/** The revenue of each app/fr cell read. */
const appRevenue = (read: Awaited<ReturnType<typeof readAndAggregate>>) => [...read.intervals.values()].flatMap((cells) => [...cells.values()]).filter((c) => c.dimensions.join() === "app,fr").map((c) => c.sums[1]);

describe("the row a byte budget cuts", () => {
  it("is read to its end, not taken whole where it was cut (12345 read as 12)", async () => {
    // The budget ends the file's bytes at a piece's end, which may fall inside a line: the parser then sees the line's start as a whole row.
    const whole = "timestamp,platform,marketplace,views,revenue\n2021-01-04 00:00:00,web,de,1,1\n2021-01-04 00:00:00,app,fr,1,12";
    const read = await readAndAggregate(oneFileIn(encoder.encode(whole), encoder.encode("345\n")), readableMetricSet(), ["h/"], { maxBytes: FILE_READ_COST + encoder.encode(whole).length });
    expect(read.overBudget).toBe(true);
    expect(appRevenue(read)).toEqual([12345]);
    expect(read.quality.rowsAccepted).toBe(2);
  });
});

describe("the row a byte budget cuts, in a file whose lines end in CR alone", () => {
  it("is not taken whole where reading stops, a record past the budget (12345 read as 12, or a time cut short)", async () => {
    // No LF ends the line the budget falls in: reading stops a record's length past the budget, within some row.
    const whole = "timestamp,platform,marketplace,views,revenue\r2021-01-04 00:00:00,web,de,1,1\r";
    const rest = "2021-01-04 00:00:00,app,fr,1,12345\r".repeat(Math.ceil((2 * MAX_RECORD_SIZE) / 35));
    const read = await readAndAggregate(oneFileIn(encoder.encode(whole), encoder.encode(rest)), readableMetricSet(), ["h/"], { maxBytes: FILE_READ_COST + encoder.encode(whole).length });
    expect(read.overBudget).toBe(true);
    expect(read.rejects.map((r) => r.reason)).toEqual(["UNREADABLE_FILE"]);
    expect(appRevenue(read)).toEqual([12345 * (read.quality.rowsAccepted - 1)]);
  });
});

describe("the row a byte budget cuts, in UTF-16", () => {
  // A newline in UTF-16LE is 0A 00; the budget's cut line must still be read to its end, and no character cut in two.
  const utf16le = (text: string) => new Uint8Array(Buffer.from(text, "utf16le"));
  const metricSet = () => readableMetricSet({ MetricSource: { S3SourceConfig: { HistoricalDataPathList: ["s3://bucket/h/"], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: ",", Charset: "utf-16le" } } } } } as never);

  it("reads the cut line whole in UTF-16LE, as in UTF-8 (12345, not a value spoiled by half a newline)", async () => {
    const whole = "timestamp,platform,marketplace,views,revenue\n2021-01-04 00:00:00,web,de,1,1\n2021-01-04 00:00:00,app,fr,1,12";
    const blobs = oneFileIn(utf16le(whole), utf16le("345\n2021-01-04 00:00:00,app,fr,1,99\n"));
    const all = await readAndAggregate(blobs, metricSet(), ["h/"]);
    // Without a budget the file reads as three rows: the charset is read.
    expect(all.quality.rowsAccepted).toBe(3);
    const read = await readAndAggregate(blobs, metricSet(), ["h/"], { maxBytes: FILE_READ_COST + utf16le(whole).length });
    expect(read.overBudget).toBe(true);
    expect(appRevenue(read)).toEqual([12345]);
    expect(read.quality.rowsAccepted).toBe(2);
  });

  it("reads no further in UTF-16LE when the budget falls at a line's end, and finds a newline split between two pieces", async () => {
    const lines = ["timestamp,platform,marketplace,views,revenue\n", "2021-01-04 00:00:00,web,de,1,1\n", "2021-01-04 00:00:00,app,fr,1,12345\n", "2021-01-04 00:00:00,app,fr,1,99\n"];
    const bytes = utf16le(lines.join(""));
    const at = utf16le(lines.slice(0, 2).join("")).length;
    const split = utf16le(lines.slice(0, 3).join("")).length - 1;
    const blobs = (cuts: number[]): FileReader => ({
      get: async () => undefined,
      list: async () => ["a.csv"],
      read: async () =>
        (async function* () {
          let from = 0;
          for (const cut of [...cuts, bytes.length]) {
            yield bytes.subarray(from, cut);
            from = cut;
          }
        })(),
    });
    const sums = (read: Awaited<ReturnType<typeof readAndAggregate>>) => [...read.intervals.values()].flatMap((cells) => [...cells.values()]).map((c) => `${c.dimensions.join()}:${c.sums[1]}`);
    // The budget ends with the web row: nothing more is read.
    const atEnd = await readAndAggregate(blobs([at]), metricSet(), ["h/"], { maxBytes: FILE_READ_COST + at });
    expect([sums(atEnd), atEnd.quality.rowsAccepted]).toEqual([["web,de:1"], 1]);
    // The budget falls inside the 12345 row, whose newline's two bytes arrive in two pieces.
    const cut = await readAndAggregate(blobs([at + 10, split]), metricSet(), ["h/"], { maxBytes: FILE_READ_COST + at + 10 });
    expect([sums(cut).sort(), cut.quality.rowsAccepted]).toEqual([["app,fr:12345", "web,de:1"], 2]);
  });
});

describe("an interval of a day in a zone", () => {
  it("names the day in its zone when a row of its folder falls on another date there", async () => {
    const files = new Map([["live/20210208/part.csv", "ts,platform,marketplace,views,revenue\n2021-02-08T23:59:00-05:00,web,us,5,1\n2021-02-09T05:30:00Z,web,us,7,1\n"]]);
    const blobs: FileReader = {
      get: async (uri) => (files.has(uri) ? encoder.encode(files.get(uri)!) : undefined),
      list: async (prefix) => [...files.keys()].filter((k) => k.startsWith(prefix)),
      read: async (uri) => (files.has(uri) ? (async function* () { yield encoder.encode(files.get(uri)!); })() : undefined),
    };
    const metricSet = { ...readableMetricSet({ Timezone: "America/New_York", TimestampColumn: { ColumnName: "ts", ColumnFormat: "ISO_8601" }, MetricSource: { S3SourceConfig: { TemplatedPathList: ["live/{{yyyyMMdd}}"] } } }), MetricSetFrequency: "P1D" as const };
    const read = await readInterval(blobs, metricSet, Date.UTC(2021, 1, 8));
    expect(read.quality).toMatchObject({ rowsRead: 2, rowsAccepted: 1, rowsRejected: 1 });
    expect(read.rejects.map((r) => r.detail)).toEqual(["'2021-02-09T05:30:00Z' is outside the interval 2021-02-08 in America/New_York"]);
  });
});
