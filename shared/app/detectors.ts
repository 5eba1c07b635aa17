import { purgeResults } from "../detect/purge.ts";
import type { AnomalyDetector, CreateAnomalyDetectorRequest } from "../model/detector.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's detector operations, in the scope's account. */

export const createDetector = (services: Services, scope: Scope, request: CreateAnomalyDetectorRequest): Promise<AnomalyDetector> => catalogOf(services, scope).createDetector(request);

export const describeDetector = (services: Services, scope: Scope, arn: string): Promise<AnomalyDetector> => catalogOf(services, scope).getDetector(arn);

export const listDetectors = (services: Services, scope: Scope): Promise<AnomalyDetector[]> => catalogOf(services, scope).listDetectors();

export const updateDetector = (services: Services, scope: Scope, request: unknown): Promise<AnomalyDetector> => catalogOf(services, scope).updateDetector(request);

export const activateDetector = (services: Services, scope: Scope, arn: string): Promise<AnomalyDetector> => catalogOf(services, scope).setDetectorStatus(arn, "ACTIVE");

export const deactivateDetector = (services: Services, scope: Scope, arn: string): Promise<AnomalyDetector> => catalogOf(services, scope).setDetectorStatus(arn, "DEACTIVATED");

/**
 * Deletes an inactive detector with all it holds, as L4M does: its alerts and metric sets,
 * and their anomaly groups, executions, data quality, feedback, model and result files, so
 * one made again under the same name starts afresh.
 */
export async function deleteDetector(services: Services, scope: Scope, arn: string): Promise<void> {
  const catalog = catalogOf(services, scope);
  await catalog.assertDeletable(arn);
  for (const m of await catalog.listMetricSets(arn)) await purgeResults(services, m);
  await catalog.deleteDetector(arn);
}
