import { intervalUri, metricSetRoot } from "../detect/results.ts";
import { bankKey, BOUND_Z } from "../detect/score-interval.ts";
import type { SeriesBank } from "../engine/bank.ts";
import { recentWindow } from "../engine/recent.ts";
import { cellValue, seriesKeyOf, type IntervalCells } from "../ingest/aggregate.ts";
import type { Anomaly, AnomalyGroupRecord } from "../model/anomaly.ts";
import { ResourceNotFoundException, ValidationException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { metricSetKey, timeSeriesId } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import { joinUri } from "../model/path-template.ts";
import type { BlobStore } from "../store/blobs.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

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
 * 30 bytes a series an interval. The score is kept in hundredths; BELOW is "scored, below
 * MIN_ANOMALY_SCORE"; LEARNED is "learned from history, not scored" (the intervals before a
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

/** A series as its measure and dimension values name it. */
export interface SeriesRef {
  readonly measure: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

const MAGIC = 0x32485356; // "VSH2", little-endian
const HEADER = 8;
export const BYTES_PER_POINT = 8 + 8 + 3 * 4 + 2;
const BELOW = 0xfffe;
const LEARNED = 0xffff;

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

/** The hash a series is filed under: of its engine key, in the metric set's dimension order. */
export const seriesHash = (metricSet: Pick<MetricSet, "DimensionList">, ref: SeriesRef) => keyHash(bankKey(ref.measure, seriesKeyOf(dimensionsOf(metricSet).map((d) => ref.dimensions[d] ?? ""))));

const layout = (buffer: ArrayBuffer, n: number) => ({
  keys: new Float64Array(buffer, HEADER, n),
  actual: new Float64Array(buffer, HEADER + 8 * n, n),
  expected: new Float32Array(buffer, HEADER + 16 * n, n),
  lower: new Float32Array(buffer, HEADER + 20 * n, n),
  upper: new Float32Array(buffer, HEADER + 24 * n, n),
  score: new Uint16Array(buffer, HEADER + 28 * n, n),
});

const scoreCode = (p: SeriesPoint) => (p.kind === "LEARNED" ? LEARNED : p.kind === "BELOW_FLOOR" ? BELOW : Math.round(Math.max(0, Math.min(100, p.score)) * 100));

export function encodeSeriesPoints(points: readonly KeptPoint[]): Uint8Array {
  const n = points.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => points[a]!.key - points[b]!.key);
  const buffer = new ArrayBuffer(HEADER + BYTES_PER_POINT * n);
  const view = new DataView(buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, n, true);
  const c = layout(buffer, n);
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

/** The points of the series asked for (by key hash) that the file holds. */
export function decodeSeriesPoints(bytes: Uint8Array, wanted: readonly number[]): Map<number, SeriesPoint> {
  // A copy aligns the typed views (a buffer read from disk may start anywhere in its pool).
  const buffer = bytes.slice().buffer;
  const view = new DataView(buffer);
  if (bytes.byteLength < HEADER || view.getUint32(0, true) !== MAGIC) throw new Error("not a series history file");
  const n = view.getUint32(4, true);
  if (bytes.byteLength !== HEADER + BYTES_PER_POINT * n) throw new Error("a series history file of the wrong length");
  const c = layout(buffer, n);
  const out = new Map<number, SeriesPoint>();
  for (const key of wanted) {
    let [lo, hi] = [0, n - 1];
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = c.keys[mid]!;
      if (at < key) lo = mid + 1;
      else if (at > key) hi = mid - 1;
      else {
        const code = c.score[mid]!;
        const kind: PointKind = code === LEARNED ? "LEARNED" : code === BELOW ? "BELOW_FLOOR" : "ANOMALY";
        out.set(key, { actual: c.actual[mid]!, expected: c.expected[mid]!, lower: c.lower[mid]!, upper: c.upper[mid]!, kind, score: kind === "ANOMALY" ? code / 100 : NaN });
        break;
      }
    }
  }
  return out;
}

/**
 * Every series with a value this interval, as the engine's ring holds it after scoring (or
 * learning) the interval; an anomaly's own band and score where detection found one.
 */
export function keptPoints(bank: SeriesBank, metricSet: Pick<MetricSet, "MetricList" | "DimensionList">, cells: IntervalCells | undefined, intervalStart: number, anomalies: readonly Anomaly[] | "learned"): KeptPoint[] {
  const k = Math.floor(intervalStart / bank.intervalMs);
  const dims = dimensionsOf(metricSet);
  const found = new Map(anomalies === "learned" ? [] : anomalies.map((a) => [bankKey(a.measure, seriesKeyOf(dims.map((d) => a.dimensions[d] ?? ""))), a] as const));
  const out: KeptPoint[] = [];
  for (const [seriesKey, cell] of cells ?? []) {
    metricSet.MetricList.forEach((metric, m) => {
      const key = bankKey(metric.MetricName, seriesKey);
      if (cellValue(cell, m, metric.AggregationFunction) === undefined || !bank.has(key)) return;
      const p = recentWindow(bank, bank.slot(key), k, 1)[0]!;
      if (!Number.isFinite(p.actual)) return;
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
    });
  }
  return out;
}

export async function keepSeriesPoints(blobs: BlobStore, root: string, intervalStart: number, points: readonly KeptPoint[]): Promise<void> {
  await blobs.put(seriesHistoryUri(root, intervalStart), encodeSeriesPoints(points));
}

/** At most this many intervals are read at once (reads run 16 at a time). */
export const MAX_HISTORY_INTERVALS = 1000;
const READS_AT_ONCE = 16;

/** The points of each series asked for (by id) at each of `starts`: a map per start, empty where detection kept nothing. */
export async function readSeriesPoints(blobs: BlobStore, metricSet: Pick<MetricSet, "MetricSetArn" | "DimensionList">, resultsRoot: string, starts: readonly number[], series: ReadonlyMap<string, SeriesRef>): Promise<Map<string, SeriesPoint>[]> {
  const root = metricSetRoot(resultsRoot, metricSet);
  const hashes = [...series].map(([id, ref]) => [id, seriesHash(metricSet, ref)] as const);
  const out: Map<string, SeriesPoint>[] = new Array(starts.length);
  let next = 0;
  const worker = async () => {
    while (next < starts.length) {
      const i = next++;
      const bytes = await blobs.get(seriesHistoryUri(root, starts[i]!));
      const found = bytes ? decodeSeriesPoints(bytes, hashes.map(([, h]) => h)) : new Map<number, SeriesPoint>();
      out[i] = new Map(hashes.flatMap(([id, h]) => (found.has(h) ? [[id, found.get(h)!] as const] : [])));
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, starts.length) }, worker));
  return out;
}

/** A series asked for by its id, or by its measure and dimension values. */
export type SeriesQuery = { readonly TimeSeriesId: string } | { readonly MetricName: string; readonly Dimensions: Readonly<Record<string, string>> };

/** The series a query names, in a metric set: its id, measure and dimension values. The id alone is found in the set's groups. */
export async function seriesOf(services: Pick<Services, "records">, metricSet: Pick<MetricSet, "MetricSetArn" | "MetricList" | "DimensionList">, query: SeriesQuery): Promise<(SeriesRef & { readonly id: string }) | undefined> {
  if ("MetricName" in query) {
    if (!metricSet.MetricList.some((m) => m.MetricName === query.MetricName)) return undefined;
    const dims = dimensionsOf(metricSet);
    const id = timeSeriesId(metricSet.MetricSetArn as Parameters<typeof timeSeriesId>[0], query.MetricName, dims.map((d) => [d, query.Dimensions[d] ?? ""] as const));
    return { id, measure: query.MetricName, dimensions: Object.fromEntries(dims.map((d) => [d, query.Dimensions[d] ?? ""])) };
  }
  for (const g of await services.records.list<AnomalyGroupRecord>("groups", `${metricSetKey(metricSet.MetricSetArn)}/`)) {
    for (const impact of Object.values(g.impacts)) {
      const dimensions = impact.series[query.TimeSeriesId];
      if (dimensions) return { id: query.TimeSeriesId, measure: impact.measure, dimensions };
    }
  }
  return undefined;
}

export interface SeriesHistory {
  readonly metricSet: MetricSet;
  readonly series: SeriesRef & { readonly id: string };
  readonly starts: readonly number[];
  readonly points: readonly (SeriesPoint | undefined)[];
}

/**
 * One series of one of the scope's metric sets over a time range: each interval's value,
 * band and score as detection kept them (GetTimeSeriesHistory).
 */
export async function seriesHistory(services: Services, scope: Scope, input: { readonly MetricSetArn: string; readonly series: SeriesQuery; readonly StartTime: number; readonly EndTime: number }): Promise<SeriesHistory> {
  const metricSet = await catalogOf(services, scope).getMetricSet(input.MetricSetArn);
  if (input.EndTime < input.StartTime) throw new ValidationException("The range ends before it starts", { fields: [{ Name: "EndTime", Message: "is before StartTime" }] });
  const len = intervalMs(metricSet.MetricSetFrequency);
  const from = Math.ceil(input.StartTime / len) * len;
  const count = Math.floor((input.EndTime - from) / len) + 1;
  if (count > MAX_HISTORY_INTERVALS) throw new ValidationException(`The range holds ${count} intervals; ask for at most ${MAX_HISTORY_INTERVALS} at a time`, { fields: [{ Name: "EndTime", Message: `is more than ${MAX_HISTORY_INTERVALS} intervals after StartTime` }] });
  const series = await seriesOf(services, metricSet, input.series);
  const named = "TimeSeriesId" in input.series ? input.series.TimeSeriesId : `${input.series.MetricName} ${JSON.stringify(input.series.Dimensions)}`;
  if (!series) throw new ResourceNotFoundException(`No time series ${named} in ${metricSet.MetricSetArn} (a series is known by its id once it has been in an anomaly group; otherwise name its measure and dimension values)`, named, "TimeSeries");
  const starts = Array.from({ length: Math.max(0, count) }, (_, i) => from + i * len);
  const read = await readSeriesPoints(services.blobs, metricSet, services.resultsRoot, starts, new Map([[series.id, series]]));
  return { metricSet, series, starts, points: read.map((m) => m.get(series.id)) };
}
