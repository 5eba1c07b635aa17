import { Catalog } from "../catalog/catalog.ts";
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
export const catalogOf = (services: Pick<Services, "records" | "region" | "clock" | "quotas" | "actionsAs">, scope: Scope): Catalog =>
  new Catalog({ records: services.records, scope: arnScopeOf(services, scope), now: services.clock, ...(services.quotas ? { quotas: services.quotas } : {}), ...(services.actionsAs ? { actionsAs: services.actionsAs } : {}) });

/**
 * The scope the system acts in for an account, when no caller is there (detection, ingest,
 * alerting, back-tests, signed links): the account's own namespace, and its tenant's data roots.
 */
export const systemScope = (services: Pick<Services, "dataRootsOf">, accountId: string): Scope => ({ tenant: accountId, accountId, dataRoots: services.dataRootsOf(accountId) });
