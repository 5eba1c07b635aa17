import * as z from "./zod.ts";
import { DataPath, FileFormatDescriptor } from "./metric-set.ts";
import { Arn } from "./shapes.ts";
import { onFirstUse } from "./first-use.ts";

/** The requests of L4M's DetectMetricSetConfig and GetSampleData: one source to sample. Built on first use (see onFirstUse). */
const schemas = onFirstUse(() => {
  /** Paths as a metric set takes them: a template or path whose fixed part names no folder is refused here, before anything is listed. */
  const SourcePaths = z.strictObject({ TemplatedPathList: z.optional(z.array(DataPath).check(z.length(1))), HistoricalDataPathList: z.optional(z.array(DataPath).check(z.length(1))) });

  /** Beyond L4M: the role that may read the source, which Vigil needs in AWS to read a bucket (as GetSampleData's). */
  const DetectMetricSetConfigRequest = z.strictObject({ AnomalyDetectorArn: Arn, AutoDetectionMetricSource: z.strictObject({ S3SourceConfig: z.extend(SourcePaths, { RoleArn: z.optional(Arn) }) }) });

  const GetSampleDataRequest = z.strictObject({ S3SourceConfig: z.extend(SourcePaths, { RoleArn: Arn, FileFormatDescriptor }) });
  return { SourcePaths, DetectMetricSetConfigRequest, GetSampleDataRequest };
});

export const SourcePaths = z.lazy(() => schemas().SourcePaths);
export const DetectMetricSetConfigRequest = z.lazy(() => schemas().DetectMetricSetConfigRequest);
export const GetSampleDataRequest = z.lazy(() => schemas().GetSampleDataRequest);
export type SourcePaths = z.infer<typeof SourcePaths>;
export type DetectMetricSetConfigRequest = z.infer<typeof DetectMetricSetConfigRequest>;
export type GetSampleDataRequest = z.infer<typeof GetSampleDataRequest>;
