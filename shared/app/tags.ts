import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** The tags of the scope's detectors, metric sets and alerts, by ARN. */

export const listTags = (services: Services, scope: Scope, arn: string): Promise<Record<string, string>> => catalogOf(services, scope).tagsOf(arn);

export const tagResource = (services: Services, scope: Scope, arn: string, tags: Readonly<Record<string, string>>): Promise<void> =>
  catalogOf(services, scope).setTags(arn, (current) => ({ ...current, ...tags }));

export const untagResource = (services: Services, scope: Scope, arn: string, keys: readonly string[]): Promise<void> =>
  catalogOf(services, scope).setTags(arn, (current) => Object.fromEntries(Object.entries(current).filter(([k]) => !keys.includes(k))));
