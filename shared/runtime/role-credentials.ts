import type { STSClient } from "@aws-sdk/client-sts";
import { AccessDeniedException } from "../model/errors.ts";

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
 * Vigil on its owner's behalf only: a tenant naming another's role is refused by AWS itself.
 * One provider per role and account, its credentials kept until they near their expiry, one
 * AssumeRole in flight however many callers wait on it; a refusal is not kept.
 */
export function roleCredentials(deps: RoleCredentialsDeps): RoleCredentials {
  const providers = new Map<string, () => Promise<Credentials>>();
  return (roleArn, accountId) => {
    const key = `${roleArn}\n${accountId}`;
    let provider = providers.get(key);
    if (!provider) {
      let held: { credentials: Promise<Credentials>; until: number } | undefined;
      provider = () => {
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
      providers.set(key, provider);
    }
    return provider;
  };
}

/** The role's credentials; STS's refusal as AccessDeniedException saying what the trust policy needs, anything else as STS threw it (throttling and 5xx stay worth another try). */
async function assume(deps: RoleCredentialsDeps, roleArn: string, accountId: string): Promise<Credentials> {
  const { AssumeRoleCommand } = await import("@aws-sdk/client-sts");
  try {
    const out = await (await deps.sts()).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionNameOf(accountId), ExternalId: accountId }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("STS answered without credentials");
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}), ...(c.Expiration ? { expiration: c.Expiration } : {}) };
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 403 && (e as { name?: string }).name !== "AccessDenied") throw e;
    throw new AccessDeniedException(`Vigil could not assume the role ${roleArn} for account ${accountId}: its trust policy must let Vigil assume it with sts:ExternalId ${accountId}`);
  }
}
