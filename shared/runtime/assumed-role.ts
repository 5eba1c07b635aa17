import type { S3Client } from "@aws-sdk/client-s3";
import type { STSClient } from "@aws-sdk/client-sts";
import type { DataFiles, DataGrant } from "../app/index.ts";
import { AccessDeniedException } from "../model/errors.ts";
import { parseLocation } from "../model/location.ts";
import { S3BlobStore } from "../store/s3-blobs.ts";

/** Temporary credentials, in the shape SDK clients take them. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/**
 * In AWS, a tenant's bucket is read as the role its metric set names, as L4M did: Vigil
 * assumes that role (STS AssumeRole) with the tenant's account as the ExternalId, so a role
 * whose trust policy asks for `sts:ExternalId` = its own account admits Vigil on its
 * owner's behalf only; a tenant naming another's role is refused by AWS itself. Vigil's own
 * function role never reads customer data: it holds Vigil's bucket and table alone. Local
 * paths are refused for every tenant.
 */
export interface AssumedRoleDeps {
  readonly sts: () => Promise<STSClient>;
  /** An S3 client that signs with the credentials `credentials` gives. */
  readonly s3With: (credentials: () => Promise<Credentials>) => S3Client;
  readonly clock: () => number;
}

/** Credentials are used until this long before they expire, then the role is assumed again. */
const REFRESH_BEFORE_MS = 5 * 60_000;

/** The session name AWS logs (CloudTrail) for reads made on a tenant's behalf. */
export const sessionNameOf = (accountId: string) => `vigil-${accountId}`;

/** Reads as a tenant, one S3 client per role and account, credentials kept until they near their expiry. */
export function assumedRoleFiles(deps: AssumedRoleDeps): (grant: DataGrant) => DataFiles {
  const clients = new Map<string, S3BlobStore>();
  const storeFor = (roleArn: string, accountId: string): S3BlobStore => {
    const key = `${roleArn}\n${accountId}`;
    let store = clients.get(key);
    if (!store) {
      // One AssumeRole in flight per role and account, however many reads wait on it; a refusal is not kept.
      let held: { credentials: Promise<Credentials>; until: number } | undefined;
      const credentials = () => {
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
      store = new S3BlobStore(deps.s3With(credentials));
      clients.set(key, store);
    }
    return store;
  };

  return (grant) => {
    const confine = (uri: string): S3BlobStore => {
      const location = parseLocation(uri);
      if (location.kind === "local") throw new AccessDeniedException(`Access denied to ${uri}: local paths are not read in AWS; name an s3:// URI and the RoleArn that may read it`);
      if (!grant.roleArn) throw new AccessDeniedException(`Access denied to ${uri}: the source names no RoleArn; Vigil reads a bucket only as the role the metric set names`);
      return storeFor(grant.roleArn, grant.accountId);
    };
    const asTenant = async <T>(uri: string, read: (store: S3BlobStore) => Promise<T>): Promise<T> => {
      const store = confine(uri);
      try {
        return await read(store);
      } catch (e) {
        throw refusalOf(e, uri, grant) ?? e;
      }
    };
    return {
      check: async (uri) => void confine(uri),
      get: (uri) => asTenant(uri, (s) => s.get(uri)),
      // A refusal comes with the object's first answer: the stream is asked for as the tenant, then read as it arrives.
      read: (uri) => asTenant(uri, (s) => s.read(uri)),
      list: (prefix) => asTenant(prefix, (s) => s.list(prefix)),
    };
  };
}

async function assume(deps: AssumedRoleDeps, roleArn: string, accountId: string): Promise<Credentials> {
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

/** What S3 or STS refused, said as L4M says it; anything else is not a refusal. */
function refusalOf(e: unknown, uri: string, grant: DataGrant): AccessDeniedException | undefined {
  if (e instanceof AccessDeniedException) return e;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === 403 || (e as { name?: string }).name === "AccessDenied") return new AccessDeniedException(`Access denied to ${uri}: the role ${grant.roleArn} may not read it`);
  return undefined;
}
