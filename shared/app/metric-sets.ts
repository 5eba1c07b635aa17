import type { MetricSet } from "../model/metric-set.ts";
import { assertWithinDataRoots, catalogOf, sourcePaths, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's metric set operations, in the scope's account. */

/** The local paths a request to create or update a metric set names, checked against the tenant's data roots first. */
function confined(scope: Scope, request: unknown): void {
  const source = (request as { MetricSource?: { S3SourceConfig?: Parameters<typeof sourcePaths>[0] } } | null)?.MetricSource?.S3SourceConfig;
  if (source && typeof source === "object") assertWithinDataRoots(scope, sourcePaths(source, "MetricSource.S3SourceConfig"));
}

export async function createMetricSet(services: Services, scope: Scope, request: unknown): Promise<MetricSet> {
  confined(scope, request);
  return catalogOf(services, scope).createMetricSet(request);
}

export const describeMetricSet = (services: Services, scope: Scope, arn: string): Promise<MetricSet> => catalogOf(services, scope).getMetricSet(arn);

/** The metric sets of one detector, or of all the scope's detectors. */
export async function listMetricSets(services: Services, scope: Scope, detectorArn?: string): Promise<MetricSet[]> {
  const catalog = catalogOf(services, scope);
  const detectors = detectorArn ? [await catalog.getDetector(detectorArn)] : await catalog.listDetectors();
  return (await Promise.all(detectors.map((d) => catalog.listMetricSets(d.AnomalyDetectorArn)))).flat();
}

export async function updateMetricSet(services: Services, scope: Scope, request: unknown): Promise<MetricSet> {
  confined(scope, request);
  return catalogOf(services, scope).updateMetricSet(request);
}
