import type { BlobRange } from "../store/blobs.ts";
import { columnStarts, pointColumns, POINTS_HEADER, SCORE_BELOW, SCORE_LEARNED, seriesPointsCount, wholeFileCount, wrongLength, type PointKind, type SeriesPoint } from "./series-points.ts";

/**
 * Reading a series.bin back (its layout: series-points.ts, which detection loads to write
 * it; reading lives apart so that detection does not load it). A file of a million series
 * is 30 MB an interval, so a chart of one series over a week must not read 168 of them
 * whole: a few series are found by range reads (the keys are near-uniform hashes, so each
 * one's place is guessed from its value), many in one pass over the file as it streams.
 * Either way, what is held at once is bounded by the reads below, not by the file.
 */

/** A file as the blob store gives it: a range of its bytes with its size, or all of them as they arrive. */
export interface SeriesFile {
  range(offset: number, length: number): Promise<BlobRange | undefined>;
  stream(): Promise<AsyncIterable<Uint8Array> | undefined>;
}

/** The first read of a file: the whole of one up to 2,184 series (the common case, one request), the head of a larger one. */
export const HEAD_READ = 64 * 1024;
/**
 * Past this many series asked of one large file, it is read in one pass rather than by
 * ranges: a series costs about six range requests (its keys' window, then its five
 * columns), so at eight it is some fifty requests against one streamed read.
 */
export const RANGE_SERIES = 8;
/** Keys read at a time in a pass. */
const KEYS_A_BLOCK = 8192;

/** What a read found: the points of the series asked for that the file holds, and how many series it holds. */
export interface SeriesFileRead {
  readonly points: Map<number, SeriesPoint>;
  readonly count: number;
}


const kindOf = (code: number): PointKind => (code === SCORE_LEARNED ? "LEARNED" : code === SCORE_BELOW ? "BELOW_FLOOR" : "ANOMALY");
const pointOf = (actual: number, expected: number, lower: number, upper: number, code: number): SeriesPoint => {
  const kind = kindOf(code);
  return { actual, expected, lower, upper, kind, score: kind === "ANOMALY" ? code / 100 : NaN };
};

/** The five columns of values after the keys, each where it starts in a file of `n` series, its width and how a value of it is read. */
const valueColumns = (n: number) => {
  const start = columnStarts(n);
  const f32 = (v: DataView) => v.getFloat32(0, true);
  return [
    { start: start.actual, width: 8, read: (v: DataView) => v.getFloat64(0, true) },
    { start: start.expected, width: 4, read: f32 },
    { start: start.lower, width: 4, read: f32 },
    { start: start.upper, width: 4, read: f32 },
    { start: start.score, width: 2, read: (v: DataView) => v.getUint16(0, true) },
  ] as const;
};

/** The points of the series asked for (by key hash) that a whole file in hand holds. */
export function decodeSeriesPoints(bytes: Uint8Array, wanted: readonly number[]): Map<number, SeriesPoint> {
  const n = wholeFileCount(bytes);
  // A copy aligns the typed views (a buffer read from disk may start anywhere in its pool; a Buffer's slice() would be a view).
  const c = pointColumns(new Uint8Array(bytes).buffer, n);
  const out = new Map<number, SeriesPoint>();
  for (const key of wanted) {
    const i = indexIn(c.keys, 0, n, key);
    if (i >= 0) out.set(key, pointOf(c.actual[i]!, c.expected[i]!, c.lower[i]!, c.upper[i]!, c.score[i]!));
  }
  return out;
}

/** The index of the first `key` in sorted `keys[from, to)`, or -1: of two series whose hashes collide, every way of reading finds the same one. */
function indexIn(keys: Float64Array, from: number, to: number, key: number): number {
  let [lo, hi] = [from, to];
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < to && keys[lo] === key ? lo : -1;
}

/** The points of the series asked for (by key hash) in a file, read in bounded pieces; undefined when there is no file. */
export async function readSeriesFile(file: SeriesFile, wanted: readonly number[]): Promise<SeriesFileRead | undefined> {
  const head = await file.range(0, HEAD_READ);
  if (!head) return undefined;
  if (head.bytes.byteLength === head.size) return { points: decodeSeriesPoints(head.bytes, wanted), count: seriesPointsCount(head.bytes) };
  const n = wholeFileCount(head.bytes, head.size);
  const keys = [...new Set(wanted)].sort((a, b) => a - b);
  const points = new Map<number, SeriesPoint>();
  if (keys.length === 0) return { points, count: n };
  if (keys.length <= RANGE_SERIES) {
    const at = new Ranges(file, head);
    try {
      // One series after another: a file's requests in flight stay at its five columns' (reads of 16 files run at once).
      for (const key of keys) {
        const point = await pointByRanges(at, n, key);
        if (point) points.set(key, point);
      }
    } catch (e) {
      if (e instanceof FileGone) return undefined;
      throw e;
    }
    return { points, count: n };
  }
  const stream = await file.stream();
  // Deleted since its head was read: no file, as above.
  if (!stream) return undefined;
  return { points: await pointsInPass(stream, n, keys), count: n };
}

/** The file was deleted between its reads (its results' retention): read as no file, as when it was gone before the first. */
class FileGone extends Error {}

/** Range reads of one file, each checked against the object the first read came from (a file replaced meanwhile is not read as one). */
class Ranges {
  constructor(
    private readonly file: SeriesFile,
    private readonly head: BlobRange,
  ) {}

  async bytes(offset: number, length: number): Promise<Uint8Array> {
    // What the head already holds is not asked for again (a file of a few thousand series: its keys, some of its values).
    if (offset + length <= this.head.bytes.byteLength) return this.head.bytes.slice(offset, offset + length);
    const got = await this.file.range(offset, length);
    if (!got) throw new FileGone();
    if (got.size !== this.head.size || got.version !== this.head.version) throw new Error("the series history file changed while it was read");
    if (got.bytes.byteLength !== length) throw wrongLength();
    // Copied into a buffer of its own, so typed views over it are aligned.
    return new Uint8Array(got.bytes);
  }
}

/**
 * One series by range reads. Each round reads a window of keys around where the key should
 * lie (its share of the hash range: among n uniform keys its place strays by at most ½√n,
 * one standard deviation, so the window is four of them each side, and at most HEAD_READ); a
 * key outside the window narrows the search to one side. A round that does not halve the
 * search is followed by one at its middle, so keys crowded by design cost at most twice a
 * binary search's rounds.
 */
async function pointByRanges(at: Ranges, n: number, key: number): Promise<SeriesPoint | undefined> {
  const half = Math.min(Math.ceil(2 * Math.sqrt(n)) + 16, Math.floor((HEAD_READ / 8 - 1) / 2));
  let [lo, hi] = [0, n];
  let [keyLo, keyHi] = [0, 2 ** 53];
  let bisect = false;
  while (lo < hi) {
    const share = keyHi > keyLo ? (key - keyLo) / (keyHi - keyLo) : 0.5;
    const guess = bisect ? Math.floor((lo + hi) / 2) : lo + Math.floor(Math.max(0, Math.min(1, share)) * (hi - lo));
    const from = Math.max(lo, Math.min(hi - 1, guess) - half);
    const to = Math.min(hi, from + 2 * half + 1);
    const keys = new Float64Array((await at.bytes(columnStarts(n).keys + 8 * from, 8 * (to - from))).buffer);
    const before = hi - lo;
    // A key equal to the window's first may have copies before it (a collision): the first of them is then on the left.
    if (key < keys[0]! || (key === keys[0] && from > lo)) [hi, keyHi] = [key === keys[0] ? from + 1 : from, keys[0]!];
    else if (key > keys[keys.length - 1]!) [lo, keyLo] = [to, keys[keys.length - 1]!];
    else {
      const i = indexIn(keys, 0, keys.length, key);
      return i < 0 ? undefined : pointAt(at, n, from + i);
    }
    bisect = !bisect && hi - lo > before / 2;
  }
  return undefined;
}

/** The point at index `i`: its five columns, read at once. */
async function pointAt(at: Ranges, n: number, i: number): Promise<SeriesPoint> {
  const [actual, expected, lower, upper, score] = await Promise.all(valueColumns(n).map(async (c) => c.read(new DataView((await at.bytes(c.start + c.width * i, c.width)).buffer))));
  return pointOf(actual!, expected!, lower!, upper!, score!);
}

/**
 * Many series in one pass over the file as it arrives: the sorted keys asked for are met
 * against the key column a block at a time, then each column gives up the found indices' values.
 * Holds a block of keys and the values found, whatever the file's size; stops reading after the
 * last value it needs.
 */
async function pointsInPass(stream: AsyncIterable<Uint8Array>, n: number, wanted: readonly number[]): Promise<Map<number, SeriesPoint>> {
  const cursor = new Cursor(stream);
  try {
    if (seriesPointsCount(await cursor.take(POINTS_HEADER)) !== n) throw new Error("the series history file changed while it was read");
    const found: { key: number; index: number }[] = [];
    for (let from = 0, w = 0; from < n && w < wanted.length; from += KEYS_A_BLOCK) {
      const count = Math.min(KEYS_A_BLOCK, n - from);
      const keys = new Float64Array((await cursor.take(8 * count)).buffer);
      for (let j = 0; j < count && w < wanted.length; j++) {
        while (w < wanted.length && wanted[w]! < keys[j]!) w++;
        if (wanted[w] === keys[j]) found.push({ key: wanted[w++]!, index: from + j });
      }
    }
    // The columns follow one another in the file: each gives up the found indices' values in turn.
    const values: Float64Array[] = [];
    for (const { start, width, read } of valueColumns(n)) {
      const out = new Float64Array(found.length);
      for (let f = 0; f < found.length; f++) {
        await cursor.skipTo(start + width * found[f]!.index);
        out[f] = read(new DataView((await cursor.take(width)).buffer));
      }
      values.push(out);
    }
    const [actual, expected, lower, upper, score] = values;
    return new Map(found.map(({ key }, f) => [key, pointOf(actual![f]!, expected![f]!, lower![f]!, upper![f]!, score![f]!)]));
  } finally {
    await cursor.close();
  }
}

/** Exact reads from a stream of pieces, at increasing offsets. */
class Cursor {
  private readonly pieces: AsyncIterator<Uint8Array>;
  private piece: Uint8Array = new Uint8Array(0);
  private at = 0;
  private offset = 0;

  constructor(stream: AsyncIterable<Uint8Array>) {
    this.pieces = stream[Symbol.asyncIterator]();
  }

  /** Passes over bytes up to `offset`. */
  async skipTo(offset: number): Promise<void> {
    while (this.offset < offset) {
      const step = Math.min(offset - this.offset, await this.left());
      this.at += step;
      this.offset += step;
    }
  }

  /** The next `length` bytes, in a buffer of their own. */
  async take(length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    for (let got = 0; got < length; ) {
      const step = Math.min(length - got, await this.left());
      out.set(this.piece.subarray(this.at, this.at + step), got);
      [got, this.at, this.offset] = [got + step, this.at + step, this.offset + step];
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pieces.return?.();
  }

  /** Bytes left in the current piece, the next one taken when it is spent; the file's end before its columns' is a wrong length. */
  private async left(): Promise<number> {
    while (this.at === this.piece.byteLength) {
      const next = await this.pieces.next();
      if (next.done) throw wrongLength();
      [this.piece, this.at] = [next.value, 0];
    }
    return this.piece.byteLength - this.at;
  }
}
