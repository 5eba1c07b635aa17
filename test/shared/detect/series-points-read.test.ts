import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSeriesPoints, HEAD_READ, RANGE_SERIES, readSeriesFile, type SeriesFile } from "../../../shared/detect/series-points-read.ts";
import { encodeSeriesPoints, type KeptPoint } from "../../../shared/detect/series-points.ts";

/** A file of `keys.length` points, each value made from its key so a wrong index shows. */
const fileOf = (keys: readonly number[]): Uint8Array =>
  encodeSeriesPoints(keys.map((key, i): KeptPoint => ({ key, actual: key / 3, expected: i, lower: i - 1, upper: i + 1, kind: i % 3 === 0 ? "ANOMALY" : "BELOW_FLOOR", score: i % 3 === 0 ? (i % 10000) / 100 : NaN })));

/** At an odd offset of a larger buffer, as a piece of a pooled buffer may be. */
const odd = (bytes: Uint8Array) => {
  const shifted = new Uint8Array(bytes.byteLength + 3);
  shifted.set(bytes, 3);
  return shifted.subarray(3);
};

/** The file as a blob store serves it, every read counted: ranges, and a stream in pieces of `piece` bytes. */
function served(bytes: Uint8Array, piece = 65_536, version = "v1") {
  const reads = { ranges: 0, rangeBytes: 0, largestRange: 0, streamed: 0 };
  const file: SeriesFile = {
    range: async (offset, length) => {
      reads.ranges++;
      const part = odd(bytes.slice(offset, offset + length));
      reads.rangeBytes += part.byteLength;
      reads.largestRange = Math.max(reads.largestRange, part.byteLength);
      return { bytes: part, size: bytes.byteLength, version };
    },
    stream: async () =>
      (async function* () {
        for (let at = 0; at < bytes.byteLength; at += piece) {
          reads.streamed += Math.min(piece, bytes.byteLength - at);
          yield odd(bytes.slice(at, at + piece));
        }
      })(),
  };
  return { file, reads };
}

const uniformKeys = (n: number, seed: number) => {
  let x = seed;
  // A small generator of near-uniform 53-bit keys (xorshift over 32 bits, twice).
  const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  return [...new Set(Array.from({ length: n }, () => (next() & 0x1fffff) * 2 ** 32 + next()))];
};

describe("reading series.bin back in bounded pieces", () => {
  it("finds what a whole read finds, for few series (ranges) and many (one pass), on files of every size and crowding", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 0, max: 9000 }), fc.integer({ min: 2180, max: 2190 })),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom("uniform", "crowded", "two clusters", "spread by powers", "collisions"),
        fc.integer({ min: 0, max: 3 * RANGE_SERIES }),
        fc.integer({ min: 1, max: 70_000 }),
        async (n, seed, shape, asked, piece) => {
          let keys = uniformKeys(n, seed);
          // Keys crowded into a sliver of the hash range, or spread by powers of two, where guessing a place from a key's value is at its worst.
          if (shape === "crowded") keys = keys.map((k) => 2 ** 40 + (k % 2 ** 20));
          if (shape === "two clusters") keys = keys.map((k, i) => (i % 2 ? 2 ** 52 : 0) + (k % 2 ** 16));
          if (shape === "spread by powers") keys = keys.map((k, i) => Math.min(2 ** 53 - 1, 2 ** (i % 53) + (k % 64)));
          // Hashes that collide: runs of one key, long enough to cross a window's edge.
          if (shape === "collisions") keys = keys.map((k, i) => (i % 97 < 40 ? keys[i - (i % 97)]! : k));
          if (shape !== "collisions") keys = [...new Set(keys)];
          const bytes = fileOf(keys);
          const wanted = [...keys.filter((_, i) => i % Math.max(1, Math.floor(keys.length / (asked || 1))) === 0).slice(0, asked), ...keys.slice(0, asked > 2 ? 1 : 0), ...uniformKeys(3, seed + 1)];
          const { file } = served(bytes, piece);
          const read = await readSeriesFile(file, wanted);
          expect(read!.count).toBe(keys.length);
          expect(read!.points).toEqual(decodeSeriesPoints(bytes, wanted));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reads one series of a million-series file in a handful of small ranges", async () => {
    const keys = uniformKeys(1_000_000, 7);
    const bytes = fileOf(keys);
    const { file, reads } = served(bytes);
    const key = keys[123_456]!;
    const read = await readSeriesFile(file, [key]);
    expect(read!.points.get(key)!.actual).toBe(key / 3);
    expect(reads.streamed).toBe(0);
    expect(reads.largestRange).toBeLessThanOrEqual(HEAD_READ);
    // The head, a window or two of keys, five columns.
    expect(reads.ranges).toBeLessThanOrEqual(9);
    expect(reads.rangeBytes).toBeLessThan(HEAD_READ + 3 * 16 * 2_100);
  });

  it("asks again for nothing the head holds: a file of 4,000 series whose keys all lie in it", async () => {
    const keys = uniformKeys(4000, 21);
    const bytes = fileOf(keys);
    const { file, reads } = served(bytes);
    const asked = keys.slice(0, RANGE_SERIES);
    expect((await readSeriesFile(file, asked))!.points).toEqual(decodeSeriesPoints(bytes, asked));
    // The head, then at most the four columns past it (expected, lower, upper, score) of each series.
    expect(reads.ranges).toBeLessThanOrEqual(1 + 4 * RANGE_SERIES);
  });

  it("crowded keys cost at most about twice a binary search's rounds", async () => {
    const keys = [...new Set(uniformKeys(200_000, 3).map((k) => 2 ** 50 + (k % 2 ** 24)))];
    const { file, reads } = served(fileOf(keys));
    const key = keys[keys.length - 5]!;
    expect((await readSeriesFile(file, [key]))!.points.has(key)).toBe(true);
    expect(reads.ranges).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(keys.length)) + 5);
  });

  it("finds the first of colliding keys, as a whole read does, when their run is longer than a window", async () => {
    const keys = uniformKeys(20_000, 17);
    const twin = keys[10_000]!;
    const colliding = keys.map((k, i) => (i >= 7_000 && i < 13_000 ? twin : k));
    const bytes = fileOf(colliding);
    const first = decodeSeriesPoints(bytes, [twin]).get(twin)!;
    expect((await readSeriesFile(served(bytes).file, [twin]))!.points.get(twin)).toEqual(first);
    expect((await readSeriesFile(served(bytes).file, [twin, ...keys.slice(0, RANGE_SERIES)]))!.points.get(twin)).toEqual(first);
  });

  it("reads many series in one pass: one range for the head, then the file once", async () => {
    const keys = uniformKeys(300_000, 11);
    const bytes = fileOf(keys);
    const { file, reads } = served(bytes);
    const wanted = keys.filter((_, i) => i % 10_000 === 0);
    const read = await readSeriesFile(file, wanted);
    expect(read!.points.size).toBe(wanted.length);
    expect(reads.ranges).toBe(1);
    expect(reads.streamed).toBe(bytes.byteLength);
  });

  it("answers a large file's head alone when no series is asked, and nothing when there is no file", async () => {
    const { file, reads } = served(fileOf(uniformKeys(5000, 5)));
    expect(await readSeriesFile(file, [])).toEqual({ points: new Map(), count: 5000 });
    expect([reads.ranges, reads.streamed]).toEqual([1, 0]);
    expect(await readSeriesFile({ range: async () => undefined, stream: async () => undefined }, [1])).toBeUndefined();
  });

  it("refuses a file cut short, and one replaced while it is read", async () => {
    const keys = uniformKeys(20_000, 9);
    const bytes = fileOf(keys);
    // Replaced by a file of the same size: the same count of series, other values.
    const same = fileOf(keys.map((k) => k + 1));
    let versions = 0;
    const sameSize: SeriesFile = {
      range: async (offset, length) => {
        const now = versions++ === 0 ? bytes : same;
        return { bytes: now.slice(offset, offset + length), size: now.byteLength, version: now === bytes ? "v1" : "v2" };
      },
      stream: served(same).file.stream,
    };
    await expect(readSeriesFile(sameSize, [keys[5]!])).rejects.toThrow("changed while it was read");
    const short = bytes.subarray(0, bytes.byteLength - 1);
    await expect(readSeriesFile(served(short).file, [keys[0]!])).rejects.toThrow("wrong length");
    // The head says 20,000 series; the stream ends early.
    const cut: SeriesFile = { range: served(bytes).file.range, stream: served(bytes.subarray(0, 100_000)).file.stream };
    await expect(readSeriesFile(cut, keys.slice(0, RANGE_SERIES + 1))).rejects.toThrow("wrong length");
    // Replaced by a larger file between the head and the next read.
    const larger = fileOf(uniformKeys(30_000, 10));
    let first = true;
    const replaced: SeriesFile = {
      range: async (offset, length) => {
        const now = first ? bytes : larger;
        first = false;
        return { bytes: now.slice(offset, offset + length), size: now.byteLength, version: "v1" };
      },
      stream: served(larger).file.stream,
    };
    await expect(readSeriesFile(replaced, [keys[5]!])).rejects.toThrow("changed while it was read");
    first = true;
    await expect(readSeriesFile(replaced, keys.slice(0, RANGE_SERIES + 1))).rejects.toThrow("changed while it was read");
    await expect(readSeriesFile(served(new TextEncoder().encode("x".repeat(HEAD_READ + 1))).file, [1])).rejects.toThrow("not a series history file");
  });

  it("reads a file deleted after its head as no file, whichever way it is read", async () => {
    const keys = uniformKeys(20_000, 13);
    const { file } = served(fileOf(keys));
    let first = true;
    const deleted: SeriesFile = { range: async (offset, length) => (first ? ((first = false), file.range(offset, length)) : undefined), stream: async () => undefined };
    expect(await readSeriesFile(deleted, [keys[1]!])).toBeUndefined();
    first = true;
    expect(await readSeriesFile(deleted, keys.slice(0, RANGE_SERIES + 1))).toBeUndefined();
  });
});
