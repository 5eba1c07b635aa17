import { purgeResults } from "../detect/purge.ts";
import { leaseTime, refuseUnderWay } from "./under-way.ts";
import { DETECTING, type AnomalyDetector, type CreateAnomalyDetectorRequest } from "../model/detector.ts";
import { ConflictException } from "../model/errors.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's detector operations, in the scope's account. */

export const createDetector = (services: Services, scope: Scope, request: CreateAnomalyDetectorRequest): Promise<AnomalyDetector> => catalogOf(services, scope).createDetector(request);

export const describeDetector = (services: Services, scope: Scope, arn: string): Promise<AnomalyDetector> => catalogOf(services, scope).getDetector(arn);

export const listDetectors = (services: Services, scope: Scope): Promise<AnomalyDetector[]> => catalogOf(services, scope).listDetectors();

export const updateDetector = (services: Services, scope: Scope, request: unknown): Promise<AnomalyDetector> => catalogOf(services, scope).updateDetector(request);

/**
 * L4M's ActivateAnomalyDetector: the detector moves to ACTIVATING, and the scheduled work
 * learns its history and moves it on (app/detect.ts). Activating one already detecting changes nothing.
 */
export async function activateDetector(services: Services, scope: Scope, arn: string): Promise<AnomalyDetector> {
  const catalog = catalogOf(services, scope);
  const detector = await catalog.getDetector(arn);
  if (detector.Status === "ACTIVATING" || DETECTING.has(detector.Status)) return detector;
  if (detector.Status === "BACK_TEST_ACTIVATING" || detector.Status === "BACK_TEST_ACTIVE") throw new ConflictException(`Detector ${detector.AnomalyDetectorName} is back-testing (${detector.Status})`, arn, "AnomalyDetector");
  const updated = await catalog.setDetectorStatus(arn, "ACTIVATING");
  services.wake?.();
  return updated;
}

export const deactivateDetector = (services: Services, scope: Scope, arn: string): Promise<AnomalyDetector> => catalogOf(services, scope).setDetectorStatus(arn, "DEACTIVATED");

/**
 * Deletes an inactive detector with all it holds, as L4M does: its alerts and metric sets,
 * and their anomaly groups, executions, data quality, feedback, model and result files, so
 * one made again under the same name starts afresh.
 */
export async function deleteDetector(services: Services, scope: Scope, arn: string): Promise<void> {
  const catalog = catalogOf(services, scope);
  await catalog.markDeleting(arn);
  const sets = await catalog.listMetricSets(arn);
  // Marked first, then read: detection that read the detector before the mark has recorded itself, and is waited for (under-way.ts).
  for (const m of sets) await refuseUnderWay(services.records, m, leaseTime(services, services.clock()));
  for (const m of sets) await purgeResults(services, m);
  await catalog.deleteDetector(arn);
}
