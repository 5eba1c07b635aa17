import { describe, expect, it } from "vitest";
import { readAndAggregate, ReadStopped, type FileReader } from "../../../shared/detect/read-files.ts";
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
