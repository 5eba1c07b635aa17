import { cellText } from "../ingest/rows.ts";
import { inferConfig, type InferredConfig } from "../ingest/infer.ts";
import { isTemplated } from "../model/path-template.ts";
import { readHead, readText, SAMPLE_LIMITS, UnreadableFile, type FileHead, type HeadLimits } from "../ingest/readers.ts";
import { ValidationException } from "../model/errors.ts";
import type { DetectMetricSetConfigRequest, GetSampleDataRequest, SourcePaths } from "../model/discovery.ts";
import { ownRoleOnly } from "../model/metric-set.ts";
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
 * The start of the first file of a source (readHead: at most SAMPLE_LIMITS of its text, the
 * file streamed, never read whole): under the historical path, else under the template's
 * fixed prefix (which the request's schema requires to name a folder). A listing past its
 * bound is refused naming the field, `at` being where the source sits in the request.
 */
async function sampleFile(blobs: DataFiles, source: SourcePaths, at: string, descriptor: Parameters<typeof readHead>[1], limits: HeadLimits): Promise<{ file: string; head: FileHead }> {
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
      const chunks = await blobs.read(file);
      if (chunks) return { file, head: await headOrRefuse(file, chunks, descriptor, limits) };
    }
  }
  throw new ValidationException(`No file to sample under ${prefixes.map(([, p]) => p).join(" or ")}`, { fields: [{ Name: "S3SourceConfig", Message: "no file found under its paths" }] });
}

function unreadableSample(file: string, detail: string): ValidationException {
  return new ValidationException(`The sample file ${file} cannot be read: ${detail}`, { fields: [{ Name: "S3SourceConfig", Message: "its first file is not readable" }] });
}

/** The file's head; refused when unreadable, or when the limits cut its first line (nothing to sample). */
async function headOrRefuse(file: string, chunks: AsyncIterable<Uint8Array>, descriptor: Parameters<typeof readHead>[1], limits: HeadLimits): Promise<FileHead> {
  const head = await readHead(chunks, descriptor, limits).catch((e: unknown) => {
    throw e instanceof UnreadableFile ? unreadableSample(file, e.message) : e;
  });
  if (head.cut && !head.text) throw unreadableSample(file, `its first line is longer than ${limits.bytes} bytes, the most a sample reads`);
  return head;
}

/** DetectMetricSetConfig: what the start of one sample file of the source shows (at most `limits` of it), each guess with a confidence. */
export async function detectMetricSetConfig(services: Services, scope: Scope, req: DetectMetricSetConfigRequest, limits: HeadLimits = SAMPLE_LIMITS): Promise<InferredConfig> {
  await catalogOf(services, scope).getDetector(req.AnomalyDetectorArn);
  const source = req.AutoDetectionMetricSource.S3SourceConfig;
  ownRoleOnly(source.RoleArn, scope.accountId, "AutoDetectionMetricSource.S3SourceConfig.RoleArn");
  const { head } = await sampleFile(tenantFiles(services, scope, source.RoleArn), source, "AutoDetectionMetricSource.S3SourceConfig", {}, limits);
  return inferConfig(head);
}

/** GetSampleData: the header and first rows of one sample file (read up to `limits`), read as the scope may read (its data roots, or the role named). */
export async function getSampleData(services: Services, scope: Scope, req: GetSampleDataRequest, limits: HeadLimits = SAMPLE_LIMITS) {
  ownRoleOnly(req.S3SourceConfig.RoleArn, scope.accountId, "S3SourceConfig.RoleArn");
  const format = req.S3SourceConfig.FileFormatDescriptor;
  const { file, head } = await sampleFile(tenantFiles(services, scope, req.S3SourceConfig.RoleArn), req.S3SourceConfig, "S3SourceConfig", format?.JsonFormatDescriptor ?? format?.CsvFormatDescriptor, limits);
  const read = readText(file, head.text, format);
  const header = [...new Set(read.rows.flatMap((r) => Object.keys(r.fields)))].filter((h) => !h.startsWith("\u0000"));
  return { HeaderValues: header, SampleRows: read.rows.slice(0, 10).map((r) => header.map((h) => (r.fields[h] === undefined || r.fields[h] === null ? "" : cellText(r.fields[h])))) };
}
