import type { S3Client } from "@aws-sdk/client-s3";
import type { DataFiles, DataGrant } from "../app/index.ts";
import { AccessDeniedException } from "../model/errors.ts";
import { parseLocation } from "../model/location.ts";
import { S3BlobStore } from "../store/s3-blobs.ts";
import { Lru, ROLE_CACHE_ENTRIES } from "./lru.ts";
import type { Credentials, RoleCredentials } from "./role-credentials.ts";

/**
 * In AWS, a tenant's bucket is read as the role its metric set names, as L4M did: Vigil
 * assumes that role with the tenant's account as the ExternalId (role-credentials.ts). Vigil's
 * own function role never reads customer data: it holds Vigil's bucket and table alone. Local
 * paths are refused for every tenant.
 */
export interface AssumedRoleDeps {
  readonly credentials: RoleCredentials;
  /** An S3 client that signs with the credentials `credentials` gives. */
  readonly s3With: (credentials: () => Promise<Credentials>) => S3Client;
}

/** Reads as a tenant, one S3 client per role and account (the most recently used ROLE_CACHE_ENTRIES kept). */
export function assumedRoleFiles(deps: AssumedRoleDeps): (grant: DataGrant) => DataFiles {
  const clients = new Lru<S3BlobStore>(ROLE_CACHE_ENTRIES);
  const storeFor = (roleArn: string, accountId: string): S3BlobStore => clients.of(`${roleArn}\n${accountId}`, () => new S3BlobStore(deps.s3With(deps.credentials(roleArn, accountId))));

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

/** What S3 or STS refused, said as L4M says it; anything else is not a refusal. */
function refusalOf(e: unknown, uri: string, grant: DataGrant): AccessDeniedException | undefined {
  if (e instanceof AccessDeniedException) return e;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === 403 || (e as { name?: string }).name === "AccessDenied") return new AccessDeniedException(`Access denied to ${uri}: the role ${grant.roleArn} may not read it`);
  return undefined;
}
