import * as z from "zod";
import { DataPath, FileFormatDescriptor } from "./metric-set.ts";
import { Arn } from "./shapes.ts";

/** The requests of L4M's DetectMetricSetConfig and GetSampleData: one source to sample. */
/** Paths as a metric set takes them: a template or path whose fixed part names no folder is refused here, before anything is listed. */
export const SourcePaths = z.strictObject({ TemplatedPathList: z.array(DataPath).length(1).optional(), HistoricalDataPathList: z.array(DataPath).length(1).optional() });
export type SourcePaths = z.infer<typeof SourcePaths>;

/** Beyond L4M: the role that may read the source, which Vigil needs in AWS to read a bucket (as GetSampleData's). */
export const DetectMetricSetConfigRequest = z.strictObject({ AnomalyDetectorArn: Arn, AutoDetectionMetricSource: z.strictObject({ S3SourceConfig: SourcePaths.extend({ RoleArn: Arn.optional() }) }) });
export type DetectMetricSetConfigRequest = z.infer<typeof DetectMetricSetConfigRequest>;

export const GetSampleDataRequest = z.strictObject({ S3SourceConfig: SourcePaths.extend({ RoleArn: Arn, FileFormatDescriptor }) });
export type GetSampleDataRequest = z.infer<typeof GetSampleDataRequest>;
