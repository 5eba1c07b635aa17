import type { MetricSet } from "../model/metric-set.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's metric set operations, in the scope's account. */

export const createMetricSet = (services: Services, scope: Scope, request: unknown): Promise<MetricSet> => catalogOf(services, scope).createMetricSet(request);

export const describeMetricSet = (services: Services, scope: Scope, arn: string): Promise<MetricSet> => catalogOf(services, scope).getMetricSet(arn);

/** The metric sets of one detector, or of all the scope's detectors. */
export async function listMetricSets(services: Services, scope: Scope, detectorArn?: string): Promise<MetricSet[]> {
  const catalog = catalogOf(services, scope);
  const detectors = detectorArn ? [await catalog.getDetector(detectorArn)] : await catalog.listDetectors();
  return (await Promise.all(detectors.map((d) => catalog.listMetricSets(d.AnomalyDetectorArn)))).flat();
}

export const updateMetricSet = (services: Services, scope: Scope, request: unknown): Promise<MetricSet> => catalogOf(services, scope).updateMetricSet(request);
