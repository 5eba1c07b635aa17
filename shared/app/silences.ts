import type { Silence } from "../model/silence.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** Silences of the scope's alerts: they mute messages, not detection (docs/alerts.md). */

export const createSilence = (services: Services, scope: Scope, request: unknown): Promise<Silence> => catalogOf(services, scope).createSilence(request);

export const listSilences = (services: Services, scope: Scope): Promise<Silence[]> => catalogOf(services, scope).listSilences();

export const expireSilence = (services: Services, scope: Scope, id: string): Promise<Silence> => catalogOf(services, scope).expireSilence(id);

export const updateSilence = (services: Services, scope: Scope, request: unknown): Promise<Silence> => catalogOf(services, scope).updateSilence(request);

/** The scope's silences, of one detector (and those naming none) when asked, and only those in force now when `active`. */
export async function findSilences(services: Services, scope: Scope, filter: { readonly AnomalyDetectorArn?: string | undefined; readonly Active?: boolean | undefined }): Promise<Silence[]> {
  const now = services.clock();
  const all = await listSilences(services, scope);
  return all
    .filter((s) => !filter.AnomalyDetectorArn || !s.AnomalyDetectorArn || s.AnomalyDetectorArn === filter.AnomalyDetectorArn)
    .filter((s) => filter.Active === undefined || (Date.parse(s.StartsAt) <= now && now < Date.parse(s.EndsAt)) === filter.Active)
    .sort((a, b) => Date.parse(b.EndsAt) - Date.parse(a.EndsAt));
}
