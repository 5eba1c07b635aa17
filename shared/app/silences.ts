import type { Silence } from "../model/silence.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** Silences of the scope's alerts: they mute messages, not detection (docs/alerts.md). */

export const createSilence = (services: Services, scope: Scope, request: unknown): Promise<Silence> => catalogOf(services, scope).createSilence(request);

export const listSilences = (services: Services, scope: Scope): Promise<Silence[]> => catalogOf(services, scope).listSilences();

export const expireSilence = (services: Services, scope: Scope, id: string): Promise<Silence> => catalogOf(services, scope).expireSilence(id);
