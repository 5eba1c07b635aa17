import * as z from "zod";
import { inferConfig, type Guess, type InferredConfig } from "../ingest/infer.ts";
import { isTemplated } from "../model/path-template.ts";
import { readRecords, UnreadableFile } from "../ingest/readers.ts";
import { ValidationException } from "../model/errors.ts";
import { FileFormatDescriptor } from "../model/metric-set.ts";
import { Arn } from "../model/shapes.ts";
import { parseOrThrow } from "../model/validate.ts";
import type { BlobStore } from "../store/blobs.ts";

/**
 * DetectMetricSetConfig and GetSampleData: read one sample file of a source that is not a
 * metric set yet. DetectMetricSetConfig answers in L4M's shape (format, frequency) and,
 * beside it, what L4M left to the console: the timestamp column and format, measures and
 * dimensions, each with a confidence.
 */
const Path = z.string().min(1).max(1024);
const SourcePaths = z.strictObject({ TemplatedPathList: z.array(Path).length(1).optional(), HistoricalDataPathList: z.array(Path).length(1).optional() });

export const DetectMetricSetConfigRequest = z.strictObject({ AnomalyDetectorArn: Arn, AutoDetectionMetricSource: z.strictObject({ S3SourceConfig: SourcePaths }) });
export const GetSampleDataRequest = z.strictObject({ S3SourceConfig: SourcePaths.extend({ RoleArn: Arn, FileFormatDescriptor }) });

/** The first file of a source: under the historical path, else under the template's fixed prefix. */
async function sampleFile(blobs: BlobStore, source: z.infer<typeof SourcePaths>): Promise<{ file: string; bytes: Uint8Array }> {
  const template = source.TemplatedPathList?.[0];
  const prefixes = [...(source.HistoricalDataPathList ?? []), ...(template ? [isTemplated(template) ? template.slice(0, template.indexOf("{{")) : template] : [])];
  if (prefixes.length === 0) throw new ValidationException("Give a TemplatedPathList or a HistoricalDataPathList to sample", { fields: [{ Name: "S3SourceConfig", Message: "names no path" }] });
  for (const prefix of prefixes) {
    for (const file of (await blobs.list(prefix)).slice(0, 1)) {
      const bytes = await blobs.get(file);
      if (bytes) return { file, bytes };
    }
  }
  throw new ValidationException(`No file to sample under ${prefixes.join(" or ")}`, { fields: [{ Name: "S3SourceConfig", Message: "no file found under its paths" }] });
}

function unreadableSample(file: string, detail: string): ValidationException {
  return new ValidationException(`The sample file ${file} cannot be read: ${detail}`, { fields: [{ Name: "S3SourceConfig", Message: "its first file is not readable" }] });
}

function inferOrRefuse(file: string, bytes: Uint8Array): InferredConfig {
  try {
    return inferConfig(bytes);
  } catch (e) {
    if (e instanceof UnreadableFile) throw unreadableSample(file, e.message);
    throw e;
  }
}

const field = <T>(g: Guess<T>, toValue: (v: T) => Record<string, unknown>) => ({ ...(g.value !== undefined ? { Value: toValue(g.value) } : {}), Confidence: g.confidence, ...(g.message ? { Message: g.message } : {}) });
const S = (v: string | boolean) => ({ S: String(v) });

export async function detectMetricSetConfig(blobs: BlobStore, input: unknown) {
  const req = parseOrThrow(DetectMetricSetConfigRequest, input, "DetectMetricSetConfig request");
  const { file, bytes } = await sampleFile(blobs, req.AutoDetectionMetricSource.S3SourceConfig);
  const g = inferOrRefuse(file, bytes);
  const common = { FileCompression: field(g.compression, S), Charset: { Value: { S: "utf-8" }, Confidence: "HIGH" } };
  const format = g.format.JsonFormatDescriptor
    ? { JsonFormatDescriptor: common }
    : { CsvFormatDescriptor: { ...common, ContainsHeader: field(g.containsHeader, S), Delimiter: field(g.delimiter, S), HeaderList: field(g.header, (v) => ({ SS: v })), QuoteSymbol: { Value: { S: '"' }, Confidence: "HIGH" } } };
  return {
    DetectedMetricSetConfig: {
      Offset: { Value: { N: "0" }, Confidence: "LOW", Message: "no delay is seen in one file; set Offset to how late your files arrive" },
      MetricSetFrequency: field(g.frequency, S),
      MetricSource: { S3SourceConfig: { FileFormatDescriptor: format } },
      // Vigil's additions, beside L4M's fields.
      TimestampColumn: field(g.timestampColumn, (v) => v),
      MetricList: field(g.measures, (v) => ({ SS: v })),
      DimensionList: field(g.dimensions, (v) => ({ SS: v })),
    },
  };
}

export async function getSampleData(blobs: BlobStore, input: unknown) {
  const req = parseOrThrow(GetSampleDataRequest, input, "GetSampleData request");
  const { file, bytes } = await sampleFile(blobs, req.S3SourceConfig);
  const read = readRecords(file, bytes, req.S3SourceConfig.FileFormatDescriptor);
  const unreadable = read.malformed.find((m) => m.line === 0);
  if (unreadable) throw unreadableSample(file, unreadable.detail);
  const header = [...new Set(read.rows.flatMap((r) => Object.keys(r.fields)))].filter((h) => !h.startsWith("\u0000"));
  return { HeaderValues: header, SampleRows: read.rows.slice(0, 10).map((r) => header.map((h) => (r.fields[h] === undefined || r.fields[h] === null ? "" : String(r.fields[h])))) };
}
