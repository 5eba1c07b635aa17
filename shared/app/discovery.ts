import { inferConfig, type InferredConfig } from "../ingest/infer.ts";
import { isTemplated } from "../model/path-template.ts";
import { readRecords, UnreadableFile } from "../ingest/readers.ts";
import { ValidationException } from "../model/errors.ts";
import type { DetectMetricSetConfigRequest, GetSampleDataRequest, SourcePaths } from "../model/discovery.ts";
import { ListingTooLarge } from "../store/blobs.ts";
import { tenantFiles } from "./data.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { DataFiles, Services } from "./services.ts";

/**
 * DetectMetricSetConfig and GetSampleData: read one sample file of a source that is not a
 * metric set yet. DetectMetricSetConfig answers in L4M's shape (format, frequency) and,
 * beside it, what L4M left to the console: the timestamp column and format, measures and
 * dimensions, each with a confidence.
 */

/**
 * The first file of a source: under the historical path, else under the template's fixed
 * prefix (which the request's schema requires to name a folder). A listing past its bound
 * is refused naming the field, `at` being where the source sits in the request.
 */
async function sampleFile(blobs: DataFiles, source: SourcePaths, at: string): Promise<{ file: string; bytes: Uint8Array }> {
  const template = source.TemplatedPathList?.[0];
  const prefixes: [string, string][] = [
    ...(source.HistoricalDataPathList ?? []).map((p): [string, string] => [`${at}.HistoricalDataPathList[0]`, p]),
    ...(template ? [[`${at}.TemplatedPathList[0]`, isTemplated(template) ? template.slice(0, template.indexOf("{{")) : template] as [string, string]] : []),
  ];
  if (prefixes.length === 0) throw new ValidationException("Give a TemplatedPathList or a HistoricalDataPathList to sample", { fields: [{ Name: "S3SourceConfig", Message: "names no path" }] });
  for (const [field, prefix] of prefixes) {
    const files = await blobs.list(prefix).catch((e: unknown) => {
      throw e instanceof ListingTooLarge ? new ValidationException(e.message, { fields: [{ Name: field, Message: "names a folder too large to list" }] }) : e;
    });
    for (const file of files.slice(0, 1)) {
      const bytes = await blobs.get(file);
      if (bytes) return { file, bytes };
    }
  }
  throw new ValidationException(`No file to sample under ${prefixes.map(([, p]) => p).join(" or ")}`, { fields: [{ Name: "S3SourceConfig", Message: "no file found under its paths" }] });
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

/** DetectMetricSetConfig: what one sample file of the source shows, each guess with a confidence. */
export async function detectMetricSetConfig(services: Services, scope: Scope, req: DetectMetricSetConfigRequest): Promise<InferredConfig> {
  await catalogOf(services, scope).getDetector(req.AnomalyDetectorArn);
  const source = req.AutoDetectionMetricSource.S3SourceConfig;
  const { file, bytes } = await sampleFile(tenantFiles(services, scope, source.RoleArn), source, "AutoDetectionMetricSource.S3SourceConfig");
  return inferOrRefuse(file, bytes);
}

/** GetSampleData: the header and first rows of one sample file, read as the scope may read (its data roots, or the role named). */
export async function getSampleData(services: Services, scope: Scope, req: GetSampleDataRequest) {
  const { file, bytes } = await sampleFile(tenantFiles(services, scope, req.S3SourceConfig.RoleArn), req.S3SourceConfig, "S3SourceConfig");
  const read = readRecords(file, bytes, req.S3SourceConfig.FileFormatDescriptor);
  const unreadable = read.malformed.find((m) => m.line === 0);
  if (unreadable) throw unreadableSample(file, unreadable.detail);
  const header = [...new Set(read.rows.flatMap((r) => Object.keys(r.fields)))].filter((h) => !h.startsWith("\u0000"));
  return { HeaderValues: header, SampleRows: read.rows.slice(0, 10).map((r) => header.map((h) => (r.fields[h] === undefined || r.fields[h] === null ? "" : String(r.fields[h])))) };
}
