import type { Alert } from "../model/alert.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** L4M's alert operations, in the scope's account. */

export const createAlert = (services: Services, scope: Scope, request: unknown): Promise<Alert> => catalogOf(services, scope).createAlert(request);

export const describeAlert = (services: Services, scope: Scope, arn: string): Promise<Alert> => catalogOf(services, scope).getAlert(arn);

/** The alerts of one detector, or of all the scope's detectors. */
export async function listAlerts(services: Services, scope: Scope, detectorArn?: string): Promise<Alert[]> {
  const catalog = catalogOf(services, scope);
  if (detectorArn) await catalog.getDetector(detectorArn);
  return catalog.listAlerts(detectorArn);
}

export const updateAlert = (services: Services, scope: Scope, request: unknown): Promise<Alert> => catalogOf(services, scope).updateAlert(request);

export const deleteAlert = (services: Services, scope: Scope, arn: string): Promise<void> => catalogOf(services, scope).deleteAlert(arn);
