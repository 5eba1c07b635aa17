import { CreateMetricSetRequest, UpdateMetricSetRequest, type MetricSet } from "../model/metric-set.ts";
import { parseOrThrow } from "../model/validate.ts";
import { checkSource } from "./data.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's metric set operations, in the scope's account. */

/** A source the scope may not read is refused (AccessDeniedException) before anything is kept. */
export async function createMetricSet(services: Services, scope: Scope, request: unknown): Promise<MetricSet> {
  const req = parseOrThrow(CreateMetricSetRequest, request, "CreateMetricSet request");
  await checkSource(services, scope, req.MetricSource);
  return catalogOf(services, scope).createMetricSet(req);
}

export const describeMetricSet = (services: Services, scope: Scope, arn: string): Promise<MetricSet> => catalogOf(services, scope).getMetricSet(arn);

/** The metric sets of one detector, or of all the scope's detectors. */
export async function listMetricSets(services: Services, scope: Scope, detectorArn?: string): Promise<MetricSet[]> {
  const catalog = catalogOf(services, scope);
  const detectors = detectorArn ? [await catalog.getDetector(detectorArn)] : await catalog.listDetectors();
  return (await Promise.all(detectors.map((d) => catalog.listMetricSets(d.AnomalyDetectorArn)))).flat();
}

/** A new source is checked as a new metric set's is. */
export async function updateMetricSet(services: Services, scope: Scope, request: unknown): Promise<MetricSet> {
  const req = parseOrThrow(UpdateMetricSetRequest, request, "UpdateMetricSet request");
  const catalog = catalogOf(services, scope);
  await catalog.getMetricSet(req.MetricSetArn);
  await checkSource(services, scope, req.MetricSource);
  return catalog.updateMetricSet(req);
}
