import type { MetricSet, MetricSource } from "../model/metric-set.ts";
import { renderTemplate } from "../model/path-template.ts";
import type { BlobStore } from "../store/blobs.ts";
import type { Scope } from "./scope.ts";
import type { DataFiles, DataGrant, Services } from "./services.ts";

/**
 * Where a tenant's data may be read from. Every file a tenant names (a metric set's source,
 * a sample's paths) is read through `services.dataFiles` with the scope's grant, so the
 * mode decides once what a tenant may reach (its data roots locally, its role in AWS).
 */

/** What a request of the scope reads with: its data roots, and the role its source names. */
export const grantOf = (scope: Scope, roleArn?: string): DataGrant => ({ accountId: scope.accountId, dataRoots: scope.dataRoots, roleArn });

/** A file reader over the scope's grant. */
export const tenantFiles = (services: Pick<Services, "dataFiles">, scope: Scope, roleArn?: string): DataFiles => services.dataFiles(grantOf(scope, roleArn));

/**
 * The files a metric set is read from: an S3SourceConfig's are the tenant's, read as its
 * grant allows; a pushed or pulled source's are the canonical files Vigil wrote itself under
 * the metric set's results (readableOf names them).
 */
export function metricSetFiles(services: Pick<Services, "dataFiles" | "blobs">, scope: Scope, metricSet: Pick<MetricSet, "MetricSource">): Pick<BlobStore, "get" | "read" | "list"> {
  const s3 = metricSet.MetricSource.S3SourceConfig;
  return s3 ? tenantFiles(services, scope, s3.RoleArn) : services.blobs;
}

/**
 * Refuses, before anything is kept, a source the scope may not read: its history path, and
 * its template as it renders (placeholders stand for digits only, so one rendering shows
 * where every interval's folder lies); a CloudWatch source this mode will not pull for the
 * account (no role named in AWS; another tenant's in vigil serve).
 */
export async function checkSource(services: Pick<Services, "dataFiles" | "sources">, scope: Scope, source: MetricSource | undefined): Promise<void> {
  if (source?.CloudWatchConfig) services.sources.cloudwatch?.admit?.(scope.accountId, source.CloudWatchConfig);
  const s3 = source?.S3SourceConfig;
  if (!s3) return;
  const files = tenantFiles(services, scope, s3.RoleArn);
  for (const path of s3.HistoricalDataPathList ?? []) await files.check(path);
  for (const template of s3.TemplatedPathList ?? []) await files.check(renderTemplate(template, 0, "UTC"));
}
