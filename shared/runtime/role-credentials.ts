import type { STSClient } from "@aws-sdk/client-sts";
import { AccessDeniedException, InternalServerException } from "../model/errors.ts";
import { arnAccount } from "../model/ids.ts";
import { Lru, ROLE_CACHE_ENTRIES } from "./lru.ts";

/** Temporary credentials, in the shape SDK clients take them. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** The credentials of one role assumed for one account, as an SDK client's `credentials` provider. */
export type RoleCredentials = (roleArn: string, accountId: string) => () => Promise<Credentials>;

export interface RoleCredentialsDeps {
  readonly sts: () => Promise<STSClient>;
  readonly clock: () => number;
}

/** Credentials are used until this long before they expire, then the role is assumed again. */
const REFRESH_BEFORE_MS = 5 * 60_000;

/** The session name AWS logs (CloudTrail) for what Vigil does on a tenant's behalf. */
export const sessionNameOf = (accountId: string) => `vigil-${accountId}`;

/**
 * A tenant's role, assumed by Vigil (STS AssumeRole) with the tenant's account as the
 * ExternalId, so a role whose trust policy asks for `sts:ExternalId` = its own account admits
 * Vigil on its owner's behalf only. A role of another account is refused before STS is asked:
 * its trust policy may have forgotten the condition, and would then admit any tenant naming
 * it (metric sets and alerts refuse such a role when made; this covers those kept before).
 * One provider per role and account, its credentials kept until they near their expiry, one
 * AssumeRole in flight however many callers wait on it; a refusal is not kept. The most
 * recently used ROLE_CACHE_ENTRIES providers are kept, the keys being tenants' choice.
 */
export function roleCredentials(deps: RoleCredentialsDeps): RoleCredentials {
  const providers = new Lru<() => Promise<Credentials>>(ROLE_CACHE_ENTRIES);
  return (roleArn, accountId) => {
    if (arnAccount(roleArn) !== accountId) return () => Promise.reject(new AccessDeniedException(`Vigil does not assume the role ${roleArn} for account ${accountId}: it is not a role of that account; name a role of account ${accountId}`));
    return providers.of(`${roleArn}\n${accountId}`, () => {
      let held: { credentials: Promise<Credentials>; until: number } | undefined;
      return () => {
        if (!held || held.until - REFRESH_BEFORE_MS <= deps.clock()) {
          const entry = { credentials: assume(deps, roleArn, accountId), until: Infinity };
          held = entry;
          entry.credentials.then(
            (c) => void (entry.until = c.expiration?.getTime() ?? 0),
            () => void (held === entry && (held = undefined)),
          );
        }
        return held.credentials;
      };
    });
  };
}

/**
 * The role's credentials. STS's AccessDenied is the role's trust policy refusing Vigil: an
 * AccessDeniedException saying what the policy needs, the tenant's to fix. Any other 403
 * (InvalidClientTokenId, SignatureDoesNotMatch, RegionDisabledException) is Vigil's own
 * credentials or region refused: no fault of the tenant's, and none it can fix, so it is an
 * InternalServerException naming the cause (STS's error name, not its message) for the
 * operator, which a delivery retries rather than parks as the role's fault. Anything else as
 * STS threw it (throttling and 5xx stay worth another try).
 */
async function assume(deps: RoleCredentialsDeps, roleArn: string, accountId: string): Promise<Credentials> {
  const { AssumeRoleCommand } = await import("@aws-sdk/client-sts");
  try {
    const out = await (await deps.sts()).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionNameOf(accountId), ExternalId: accountId }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("STS answered without credentials");
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}), ...(c.Expiration ? { expiration: c.Expiration } : {}) };
  } catch (e) {
    const err = e as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (err.name === "AccessDenied" || (err.$metadata?.httpStatusCode === 403 && err.Code === "AccessDenied")) {
      throw new AccessDeniedException(`Vigil could not assume the role ${roleArn} for account ${accountId}: its trust policy must let Vigil assume it with sts:ExternalId ${accountId}`);
    }
    if (err.$metadata?.httpStatusCode !== 403) throw e;
    // STS's own words stay out (a failure reason and a delivery's error reach the tenant, and RegionDisabledException's name Vigil's account): its error's name says what the operator must fix.
    throw new InternalServerException(`STS refused Vigil's own credentials while assuming the role ${roleArn} for account ${accountId} (${err.name ?? "403"}): the operator must fix Vigil's credentials, clock or region; the role is not at fault`);
  }
}
