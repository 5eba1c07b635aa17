import { joinUri } from "../model/location.ts";
import type { MetricSet, S3SourceConfig } from "../model/metric-set.ts";
import { CANONICAL_TIMESTAMP_COLUMN, dimensionsOf, measuresOf } from "../model/metric-set.ts";

/**
 * The canonical file ingest writes for sources that are not files already (CloudWatch,
 * rows pushed over HTTP): CSV with a header `timestamp,<dimensions…>,<measures…>`, ISO
 * 8601 timestamps, one file per interval under the metric set's canonical template. The
 * detector then reads it like any S3 source.
 */
export interface CanonicalRow {
  readonly timestamp: number;
  readonly dimensions: readonly string[];
  /** Measure name → value; a missing measure is a gap, written as an empty cell. */
  readonly values: Record<string, number>;
}

const csvCell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

export function canonicalCsv(metricSet: Pick<MetricSet, "DimensionList" | "MetricList">, rows: readonly CanonicalRow[]): string {
  const measures = measuresOf(metricSet);
  const header = [CANONICAL_TIMESTAMP_COLUMN, ...dimensionsOf(metricSet), ...measures].map(csvCell).join(",");
  const lines = rows.map((r) => [new Date(r.timestamp).toISOString(), ...r.dimensions.map(csvCell), ...measures.map((m) => (r.values[m] === undefined ? "" : String(r.values[m])))].join(","));
  return [header, ...lines].join("\n") + "\n";
}

/** Where ingest writes a metric set's canonical files: beside its results. */
export const canonicalTemplate = (metricSetRoot: string) => joinUri(metricSetRoot, "ingested", "{{yyyyMMdd}}", "{{HHmm}}");

/**
 * The S3 source detection reads for a metric set: its own files, or the canonical ones
 * ingest and PutMetricRows write, whose earlier intervals are also its history (what was
 * there before the first interval detected is learned, not scored).
 */
export function effectiveSource(metricSet: Pick<MetricSet, "MetricSource">, metricSetRoot: string): S3SourceConfig | undefined {
  if (metricSet.MetricSource.S3SourceConfig) return metricSet.MetricSource.S3SourceConfig;
  return {
    TemplatedPathList: [canonicalTemplate(metricSetRoot)],
    HistoricalDataPathList: [`${joinUri(metricSetRoot, "ingested")}/`],
    FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } },
  };
}

/** How canonical files write their timestamps. */
export const CANONICAL_TIMESTAMP = { ColumnName: CANONICAL_TIMESTAMP_COLUMN, ColumnFormat: "ISO_8601" } as const;
