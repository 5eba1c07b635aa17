import { RECENT, type SeriesBank } from "../engine/bank.ts";
import { recentAt, recentWindow } from "../engine/recent.ts";
import { cellValue, type CellWalk } from "../ingest/aggregate.ts";
import { seriesKeyOf } from "../ingest/series-key.ts";
import type { Anomaly } from "../model/anomaly.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import { joinUri } from "../model/location.ts";
import { intervalUri } from "./results.ts";
import { bankKey, BOUND_Z } from "./score-interval.ts";

/**
 * What detection keeps of every series it scores, each interval: the value, the expected
 * value and the band (the values that would score below the default alert threshold), read
 * back from the engine's ring of recent values after scoring, and, for the values it found
 * anomalous, their score. It is what a chart's band, a series' history and "why was I not
 * alerted?" are read from. A score below MIN_ANOMALY_SCORE is kept as just that: such a
 * value is no anomaly, joins no group and can tell no alert, and the engine does not hand
 * it out without its per-series id, which costs more to make than the rest together.
 *
 * One file per interval beside anomalies.jsonl (`series.bin`), columns of fixed width, the
 * series sorted by a 53-bit hash of their engine key (measure and dimension values):
 *
 *   "VSH2" | n (u32) | keys n×f64 | actual n×f64 | expected, lower, upper n×f32 each | score n×u16
 *
 * 30 bytes a series an interval. The score is kept in hundredths; SCORE_BELOW is "scored, below
 * MIN_ANOMALY_SCORE"; SCORE_LEARNED is "learned from history, not scored" (the intervals before a
 * detector's first live one, so its first incidents have their context).
 */
export type PointKind = "ANOMALY" | "BELOW_FLOOR" | "LEARNED";

export interface SeriesPoint {
  readonly actual: number;
  readonly expected: number;
  readonly lower: number;
  readonly upper: number;
  readonly kind: PointKind;
  /** 0–100 for an anomaly; NaN otherwise. */
  readonly score: number;
}

export type KeptPoint = SeriesPoint & { readonly key: number };


export const POINTS_MAGIC = 0x32485356; // "VSH2", little-endian
export const POINTS_HEADER = 8;
export const BYTES_PER_POINT = 8 + 8 + 3 * 4 + 2;
export const SCORE_BELOW = 0xfffe;
export const SCORE_LEARNED = 0xffff;

export const seriesHistoryUri = (root: string, intervalStart: number) => joinUri(intervalUri(root, intervalStart), "series.bin");

/** cyrb53 (public domain): a fast 53-bit string hash; two keys of a metric set collide with odds near n²/2⁵⁴. */
export function keyHash(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}


/** Where each column of a file of `n` series starts: the one statement of the layout, for typed views over a whole file and for reads of a part. */
export const columnStarts = (n: number) => ({
  keys: POINTS_HEADER,
  actual: POINTS_HEADER + 8 * n,
  expected: POINTS_HEADER + 16 * n,
  lower: POINTS_HEADER + 20 * n,
  upper: POINTS_HEADER + 24 * n,
  score: POINTS_HEADER + 28 * n,
});

export const pointColumns = (buffer: ArrayBufferLike, n: number, at = 0) => {
  const start = columnStarts(n);
  return {
    keys: new Float64Array(buffer, at + start.keys, n),
    actual: new Float64Array(buffer, at + start.actual, n),
    expected: new Float32Array(buffer, at + start.expected, n),
    lower: new Float32Array(buffer, at + start.lower, n),
    upper: new Float32Array(buffer, at + start.upper, n),
    score: new Uint16Array(buffer, at + start.score, n),
  };
};

/** How many series a file holds, from its head (which is all `bytes` need be). */
export function seriesPointsCount(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < POINTS_HEADER || view.getUint32(0, true) !== POINTS_MAGIC) throw new Error("not a series history file");
  return view.getUint32(4, true);
}

/** A file shorter or longer than its series' columns: cut short, or not one. */
export const wrongLength = () => new Error("a series history file of the wrong length");

/** The same of a file of `size` bytes, which must be its series' exact length. */
export function wholeFileCount(head: Uint8Array, size = head.byteLength): number {
  const n = seriesPointsCount(head);
  if (size !== POINTS_HEADER + BYTES_PER_POINT * n) throw wrongLength();
  return n;
}

const scoreCode = (p: SeriesPoint) => (p.kind === "LEARNED" ? SCORE_LEARNED : p.kind === "BELOW_FLOOR" ? SCORE_BELOW : Math.round(Math.max(0, Math.min(100, p.score)) * 100));

/**
 * The first `n` indices in the order of their keys, equal keys in index order. Keys are
 * 53-bit hashes, near uniform: counted into about n buckets by their leading bits, then
 * put right by insertion (a bucket holds one or two), where a sort that calls a comparator
 * for every pair cost ten times as much. Keys that crowd into few buckets (a metric set's
 * names chosen to) would make insertion quadratic: past a budget of moves, the comparator
 * sort takes over.
 */
export function keyOrder(keys: Float64Array, n: number): Uint32Array {
  const bits = Math.min(20, Math.max(1, Math.ceil(Math.log2(n + 1))));
  const buckets = 2 ** bits;
  const width = 2 ** 53 / buckets;
  const bucketOf = (key: number) => Math.max(0, Math.min(buckets - 1, Math.floor(key / width)));
  const starts = new Uint32Array(buckets + 1);
  for (let i = 0; i < n; i++) starts[bucketOf(keys[i]!) + 1]!++;
  for (let b = 0; b < buckets; b++) starts[b + 1]! += starts[b]!;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[starts[bucketOf(keys[i]!)]!++] = i;
  let budget = 8 * n + 64;
  for (let i = 1; i < n; i++) {
    const index = order[i]!;
    const key = keys[index]!;
    let j = i - 1;
    for (; j >= 0 && keys[order[j]!]! > key; j--) {
      order[j + 1] = order[j]!;
      if (--budget < 0) return Uint32Array.from({ length: n }, (_, k) => k).sort((a, b) => keys[a]! - keys[b]!);
    }
    order[j + 1] = index;
  }
  return order;
}

/** A file of `n` kept points: its head written, its columns to fill. */
function pointsFile(n: number): { buffer: ArrayBuffer; c: ReturnType<typeof pointColumns> } {
  const buffer = new ArrayBuffer(POINTS_HEADER + BYTES_PER_POINT * n);
  const view = new DataView(buffer);
  view.setUint32(0, POINTS_MAGIC, true);
  view.setUint32(4, n, true);
  return { buffer, c: pointColumns(buffer, n) };
}

export function encodeSeriesPoints(points: readonly KeptPoint[]): Uint8Array {
  const n = points.length;
  const keys = Float64Array.from(points, (p) => p.key);
  const order = keyOrder(keys, n);
  const { buffer, c } = pointsFile(n);
  order.forEach((from, i) => {
    const p = points[from]!;
    c.keys[i] = p.key;
    c.actual[i] = p.actual;
    c.expected[i] = p.expected;
    c.lower[i] = p.lower;
    c.upper[i] = p.upper;
    c.score[i] = scoreCode(p);
  });
  return new Uint8Array(buffer);
}

/**
 * Every series with a value this interval, as the engine's ring holds it after scoring (or
 * learning) the interval; an anomaly's own band and score where detection found one.
 */
export function keptPoints(bank: SeriesBank, metricSet: Pick<MetricSet, "MetricList" | "DimensionList">, cells: CellWalk | undefined, intervalStart: number, anomalies: readonly Anomaly[] | "learned"): KeptPoint[] {
  const slots: number[] = [];
  cells?.forEach((cell, seriesKey) => {
    metricSet.MetricList.forEach((metric, m) => {
      if (cellValue(cell, m, metric.AggregationFunction) === undefined) return;
      const slot = bank.find(bankKey(metric.MetricName, seriesKey));
      if (slot !== undefined) slots.push(slot);
    });
  });
  return keptPointsOf(bank, metricSet, slots, intervalStart, anomalies);
}

/** The same, of the series at `slots` (those scoreInterval just gave a value, which it lists). */
export function keptPointsOf(bank: SeriesBank, metricSet: Pick<MetricSet, "DimensionList">, slots: readonly number[], intervalStart: number, anomalies: readonly Anomaly[] | "learned"): KeptPoint[] {
  const k = Math.floor(intervalStart / bank.intervalMs);
  const dims = dimensionsOf(metricSet);
  const found = new Map(anomalies === "learned" ? [] : anomalies.map((a) => [bankKey(a.measure, seriesKeyOf(dims.map((d) => a.dimensions[d] ?? ""))), a] as const));
  const out: KeptPoint[] = [];
  for (const slot of slots) {
    const p = recentWindow(bank, slot, k, 1)[0]!;
    if (!Number.isFinite(p.actual)) continue;
    const key = bank.keys[slot]!;
    const a = found.get(key);
    const half = Number.isFinite(p.scale) ? BOUND_Z * p.scale : NaN;
    out.push({
      key: keyHash(key),
      actual: p.actual,
      expected: a?.expected ?? p.expected,
      lower: a?.lower ?? p.expected - half,
      upper: a?.upper ?? p.expected + half,
      kind: a ? "ANOMALY" : anomalies === "learned" ? "LEARNED" : "BELOW_FLOOR",
      score: a?.score ?? NaN,
    });
  }
  return out;
}

/**
 * What encodeSeriesPoints(keptPointsOf(…)) writes, written from the bank's rings straight into
 * the file's columns: a shard keeps tens of thousands of points an interval, and an object
 * per point (and per window read) cost more than scoring them.
 */
export function encodeKeptPoints(bank: SeriesBank, metricSet: Pick<MetricSet, "DimensionList">, slots: readonly number[], intervalStart: number, anomalies: readonly Anomaly[]): Uint8Array {
  const k = Math.floor(intervalStart / bank.intervalMs);
  const dims = dimensionsOf(metricSet);
  const found = new Map(anomalies.map((a) => [bankKey(a.measure, seriesKeyOf(dims.map((d) => a.dimensions[d] ?? ""))), a] as const));
  // The points in slot order first (where the engine's ring has a value), then written in key order.
  const taken = new Int32Array(slots.length);
  const keys = new Float64Array(slots.length);
  let n = 0;
  for (const slot of slots) {
    const at = recentAt(bank, slot, k);
    if (at < 0 || !Number.isFinite(bank.recentActual[at]!)) continue;
    taken[n] = at;
    keys[n++] = keyHash(bank.keys[slot]!);
  }
  const order = keyOrder(keys, n);
  const { buffer, c } = pointsFile(n);
  for (let i = 0; i < n; i++) {
    const from = order[i]!;
    const at = taken[from]!;
    const a = found.size ? found.get(bank.keys[Math.floor(at / RECENT)]!) : undefined;
    const expected = bank.recentExpected[at]!;
    const scale = bank.recentScale[at]!;
    const half = Number.isFinite(scale) ? BOUND_Z * scale : NaN;
    c.keys[i] = keys[from]!;
    c.actual[i] = bank.recentActual[at]!;
    c.expected[i] = a?.expected ?? expected;
    c.lower[i] = a?.lower ?? expected - half;
    c.upper[i] = a?.upper ?? expected + half;
    c.score[i] = a ? Math.round(Math.max(0, Math.min(100, a.score)) * 100) : SCORE_BELOW;
  }
  return new Uint8Array(buffer);
}

/**
 * One interval's file from the parts its shards kept, each sorted by key: merged in key
 * order, as one encode of all their points would write it.
 */
export function mergeSeriesPoints(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const from = parts.map((bytes) => {
    // Read where they lie when aligned (a part handed over by a worker is its own buffer); copied to align otherwise.
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
    const n = wholeFileCount(aligned);
    return { c: pointColumns(aligned.buffer, n, aligned.byteOffset), n, at: 0 };
  });
  const n = from.reduce((sum, p) => sum + p.n, 0);
  const { buffer, c } = pointsFile(n);
  // A binary heap of the parts by their next key (kept beside it): log(parts) comparisons a point, not a scan of every part.
  const heap = Int32Array.from(from.map((_, p) => p).filter((p) => from[p]!.n > 0));
  const next = new Float64Array(from.map((p) => (p.n > 0 ? p.c.keys[0]! : Infinity)));
  let size = heap.length;
  const sift = (i: number) => {
    const part = heap[i]!;
    const key = next[part]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const child = r < size && next[heap[r]!]! < next[heap[l]!]! ? r : l;
      if (next[heap[child]!]! >= key) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = part;
  };
  for (let i = (size >> 1) - 1; i >= 0; i--) sift(i);
  for (let i = 0; i < n; i++) {
    const p = heap[0]!;
    const part = from[p]!;
    const j = part.at++;
    c.keys[i] = part.c.keys[j]!;
    c.actual[i] = part.c.actual[j]!;
    c.expected[i] = part.c.expected[j]!;
    c.lower[i] = part.c.lower[j]!;
    c.upper[i] = part.c.upper[j]!;
    c.score[i] = part.c.score[j]!;
    if (part.at === part.n) heap[0] = heap[--size]!;
    else next[p] = part.c.keys[part.at]!;
    if (size) sift(0);
  }
  return new Uint8Array(buffer);
}
