import { normalize } from "node:path/posix";
import { Catalog } from "../catalog/catalog.ts";
import { AccessDeniedException } from "../model/errors.ts";
import { parseLocation, templatePrefix } from "../model/path-template.ts";
import type { ArnScope } from "../model/ids.ts";
import type { Services } from "./services.ts";

/**
 * Who calls a use case: a tenant, whose namespace is an account (as in AWS: its ARNs carry
 * it, and another account's resources answer as if they did not exist), and the local
 * folders it may read data from. Every use case a tenant can reach takes one, so the
 * check is made here and nowhere else.
 */
export interface Scope {
  readonly tenant: string;
  /** Twelve digits: the account in this tenant's ARNs. */
  readonly accountId: string;
  /**
   * Local folders this tenant may read metric files from; `undefined` for the operator's
   * own commands on their own machine (the CLI), which read where they are pointed.
   */
  readonly dataRoots?: readonly string[] | undefined;
}

/** The local default tenant's account, in every ARN the local mode mints for it. */
export const DEFAULT_ACCOUNT_ID = "000000000000";

/** The operator on their own machine: the CLI's commands act as the default tenant. */
export const OPERATOR: Scope = { tenant: "default", accountId: DEFAULT_ACCOUNT_ID };

export const arnScopeOf = (services: Pick<Services, "region">, scope: Scope): ArnScope => ({ ...services.region, accountId: scope.accountId });

/** The scope's detectors, metric sets and alerts: another account's are not found. */
export const catalogOf = (services: Pick<Services, "records" | "region" | "clock" | "quotas">, scope: Scope): Catalog =>
  new Catalog({ records: services.records, scope: arnScopeOf(services, scope), now: services.clock, ...(services.quotas ? { quotas: services.quotas } : {}) });

/** The scope of scheduled work on a resource: its own account's. */
export const accountScopeOf = (accountId: string): Scope => ({ tenant: accountId, accountId });

/** The paths of an S3SourceConfig (or its like) that name local files, with the field each came from. */
export function sourcePaths(source: { readonly TemplatedPathList?: readonly string[] | undefined; readonly HistoricalDataPathList?: readonly string[] | undefined } | undefined, at: string): [string, string][] {
  return [
    ...(source?.TemplatedPathList ?? []).map((p, i): [string, string] => [`${at}.TemplatedPathList[${i}]`, templatePrefix(p)]),
    ...(source?.HistoricalDataPathList ?? []).map((p, i): [string, string] => [`${at}.HistoricalDataPathList[${i}]`, p]),
  ];
}

/**
 * A tenant given data roots reads local files under them alone: a local path elsewhere, or
 * not absolute, or climbing out with `..`, is refused before anything is read or written.
 * (A symbolic link inside a root is followed: the operator owns what the roots hold.)
 */
export function assertWithinDataRoots(scope: Scope, paths: readonly [field: string, path: string][]): void {
  const roots = scope.dataRoots;
  if (!roots) return;
  for (const [field, path] of paths) {
    const location = parseLocation(path);
    if (location.kind !== "local") continue;
    const local = normalize(location.path);
    const inside = local.startsWith("/") && roots.some((root) => local === normalize(root) || local.startsWith(`${normalize(root).replace(/\/+$/, "")}/`));
    if (!inside) throw new AccessDeniedException(`${field} (${path}) is not under this tenant's data roots (${roots.join(", ")})`);
  }
}
