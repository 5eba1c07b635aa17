import { metricSetRoot } from "../detect/results.ts";
import { bankKey } from "../detect/score-interval.ts";
import { readSeriesFile } from "../detect/series-points-read.ts";
import { keyHash, seriesHistoryUri, type SeriesPoint } from "../detect/series-points.ts";
import { seriesKeyOf } from "../ingest/series-key.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import { ResourceNotFoundException, ValidationException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { metricSetKey, timeSeriesId } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import { own } from "../model/shapes.ts";
import type { BlobStore } from "../store/blobs.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/**
 * A series' kept history, read back: what detection kept of every series it scored, each
 * interval (detect/series-points.ts), for a chart's band, a series' history and "why was
 * I not alerted?".
 */
export type { SeriesPoint };

/** A series as its measure and dimension values name it. */
export interface SeriesRef {
  readonly measure: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** The hash a series is filed under: of its engine key, in the metric set's dimension order. */
export const seriesHash = (metricSet: Pick<MetricSet, "DimensionList">, ref: SeriesRef) => keyHash(bankKey(ref.measure, seriesKeyOf(dimensionsOf(metricSet).map((d) => ref.dimensions[d] ?? ""))));

/** At most this many intervals are read at once (16 files at a time, each in pieces of at most 64 KiB, five requests at most in flight a file: series-points-read.ts). */
export const MAX_HISTORY_INTERVALS = 1000;
const READS_AT_ONCE = 16;

/** The points of each series asked for (by id) at each of `starts`: a map per start, empty where detection kept nothing. */
export async function readSeriesPoints(blobs: BlobStore, metricSet: Pick<MetricSet, "MetricSetArn" | "DimensionList">, resultsRoot: string, starts: readonly number[], series: ReadonlyMap<string, SeriesRef>): Promise<Map<string, SeriesPoint>[]> {
  return (await readKeptPoints(blobs, metricSet, resultsRoot, starts, series)).points;
}

/**
 * The same, with whether detection kept any series at each start (`kept`): a series it kept
 * nothing of where it kept others had no value then; where it kept none (no file, or an empty
 * one) the interval was not scored, or was scored before detection kept its points.
 */
export async function readKeptPoints(blobs: BlobStore, metricSet: Pick<MetricSet, "MetricSetArn" | "DimensionList">, resultsRoot: string, starts: readonly number[], series: ReadonlyMap<string, SeriesRef>): Promise<{ points: Map<string, SeriesPoint>[]; kept: boolean[] }> {
  const root = metricSetRoot(resultsRoot, metricSet);
  const hashes = [...series].map(([id, ref]) => [id, seriesHash(metricSet, ref)] as const);
  const points: Map<string, SeriesPoint>[] = new Array(starts.length);
  const kept: boolean[] = new Array(starts.length);
  let next = 0;
  const worker = async () => {
    while (next < starts.length) {
      const i = next++;
      const uri = seriesHistoryUri(root, starts[i]!);
      const read = await readSeriesFile({ range: (offset, length) => blobs.getRange(uri, offset, length), stream: () => blobs.read(uri) }, hashes.map(([, h]) => h));
      const found = read?.points ?? new Map<number, SeriesPoint>();
      points[i] = new Map(hashes.flatMap(([id, h]) => (found.has(h) ? [[id, found.get(h)!] as const] : [])));
      kept[i] = (read?.count ?? 0) > 0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, starts.length) }, worker));
  return { points, kept };
}

/** A series asked for by its id, or by its measure and dimension values. */
export type SeriesQuery = { readonly TimeSeriesId: string } | { readonly MetricName: string; readonly Dimensions: Readonly<Record<string, string>> };

/** The series a query names, in a metric set: its id, measure and dimension values. The id alone is found in the set's groups (among the series their records keep: incidents/bounded.ts). */
export async function seriesOf(services: Pick<Services, "records">, metricSet: Pick<MetricSet, "MetricSetArn" | "MetricList" | "DimensionList">, query: SeriesQuery): Promise<(SeriesRef & { readonly id: string }) | undefined> {
  if ("MetricName" in query) {
    if (!metricSet.MetricList.some((m) => m.MetricName === query.MetricName)) return undefined;
    const dims = dimensionsOf(metricSet);
    const id = timeSeriesId(metricSet.MetricSetArn as Parameters<typeof timeSeriesId>[0], query.MetricName, dims.map((d) => [d, own(query.Dimensions, d) ?? ""] as const));
    return { id, measure: query.MetricName, dimensions: Object.fromEntries(dims.map((d) => [d, own(query.Dimensions, d) ?? ""])) };
  }
  for (const g of await services.records.list<AnomalyGroupRecord>("groups", `${metricSetKey(metricSet.MetricSetArn)}/`)) {
    for (const impact of Object.values(g.impacts)) {
      const dimensions = own(impact.series, query.TimeSeriesId);
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
  if (!series) throw new ResourceNotFoundException(`No time series ${named} in ${metricSet.MetricSetArn} (a series is known by its id once an anomaly group's record holds it, which keeps each measure's most severe series; otherwise name its measure and dimension values)`, named, "TimeSeries");
  const starts = Array.from({ length: Math.max(0, count) }, (_, i) => from + i * len);
  const read = await readSeriesPoints(services.blobs, metricSet, services.resultsRoot, starts, new Map([[series.id, series]]));
  return { metricSet, series, starts, points: read.map((m) => m.get(series.id)) };
}
