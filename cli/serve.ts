import { createHash } from "node:crypto";
import type { Server } from "node:http";
import { join } from "node:path";
import { DEFAULT_ACCOUNT_ID, type Scope, type Services } from "../shared/app/index.ts";
import { createBoundedServer, type Handler, type HttpLimits } from "../shared/api/http-server.ts";
import { isPage, page } from "../shared/api/pages.ts";
import { errorResponse, router } from "../shared/api/router.ts";
import { SigV4Verifier, type Credential } from "../shared/api/sigv4.ts";
import { ValidationException, VigilError } from "../shared/model/errors.ts";
import { checkedRoots, DATA_FOLDER, dataRootsFromText } from "../shared/runtime/data-roots.ts";

/** The access key `vigil serve` accepts when none is configured, for trying it out (README). */
export const DEFAULT_ACCESS_KEY_ID = "VIGILLOCALKEY";
export const DEFAULT_SECRET_ACCESS_KEY = "vigil-local-secret";

/** A tenant's account, in its ARNs: the default tenant's is all zeros, another's is derived from its name (or given). */
export function accountOf(tenant: string): string {
  if (tenant === "default") return DEFAULT_ACCOUNT_ID;
  const n = BigInt(`0x${createHash("sha256").update(`vigil-tenant:${tenant}`).digest("hex").slice(0, 15)}`) % 999_999_999_999n;
  return String(n + 1n).padStart(12, "0");
}

export interface Tenants {
  /** Who may call, by access key. */
  readonly credentials: ReadonlyMap<string, Credential>;
  /** Each tenant's scope (its account, the folders it may read), by tenant name. */
  readonly scopes: ReadonlyMap<string, Scope>;
  /** The folders an account may read, for what detection reads on its behalf; an account of no tenant reads none. */
  readonly dataRootsOf: (accountId: string) => readonly string[];
}

/**
 * Who may call: VIGIL_ACCESS_KEY_ID / VIGIL_SECRET_ACCESS_KEY (tenant "default"), and any
 * more in VIGIL_TENANTS as `tenant:accessKeyId:secret[:account]` separated by commas.
 * Where each may read metric files: VIGIL_DATA_ROOTS (`tenant=folder[:folder…]` separated
 * by `;`); the default tenant reads `<data dir>/files` unless given others (`--data-root`,
 * then VIGIL_DATA_ROOTS), another tenant reads no local file unless granted one.
 */
export async function tenantsFromEnv(env: NodeJS.ProcessEnv, where: { readonly dataDir: string; readonly dataRoots?: readonly string[] | undefined }): Promise<Tenants> {
  const credentials = new Map<string, Credential>([[env["VIGIL_ACCESS_KEY_ID"] ?? DEFAULT_ACCESS_KEY_ID, { secretAccessKey: env["VIGIL_SECRET_ACCESS_KEY"] ?? DEFAULT_SECRET_ACCESS_KEY, tenant: "default" }]]);
  const accounts = new Map<string, string>([["default", DEFAULT_ACCOUNT_ID]]);
  for (const entry of (env["VIGIL_TENANTS"] ?? "").split(",").filter((e) => e.trim())) {
    const [tenant, key, secret, account, ...rest] = entry.trim().split(":");
    if (!tenant || !key || !secret || rest.length) throw new ValidationException(`VIGIL_TENANTS entry '${entry.trim().split(":")[0]}:…' is not tenant:accessKeyId:secret[:account]`);
    if (account !== undefined && !/^\d{12}$/.test(account)) throw new ValidationException(`VIGIL_TENANTS entry '${tenant}:…' names an account that is not 12 digits`);
    credentials.set(key, { secretAccessKey: secret, tenant });
    accounts.set(tenant, account ?? accountOf(tenant));
  }
  if (new Set(accounts.values()).size !== accounts.size) throw new ValidationException("VIGIL_TENANTS: two tenants share an account");

  const granted = dataRootsFromText(env["VIGIL_DATA_ROOTS"] ?? "");
  for (const tenant of Object.keys(granted)) if (!accounts.has(tenant)) throw new ValidationException(`VIGIL_DATA_ROOTS names tenant ${tenant}, which VIGIL_TENANTS does not`, { fields: [{ Name: "VIGIL_DATA_ROOTS", Message: `names an unknown tenant ${tenant}` }] });
  const roots = await checkedRoots({ ...granted, default: [...(where.dataRoots ?? granted["default"] ?? [join(where.dataDir, DATA_FOLDER)])] }, where.dataDir);
  const scopes = new Map<string, Scope>([...accounts].map(([tenant, accountId]) => [tenant, { tenant, accountId, dataRoots: roots.get(tenant) ?? [] }]));
  const byAccount = new Map([...scopes.values()].map((s) => [s.accountId, s.dataRoots ?? []]));
  return { credentials, scopes, dataRootsOf: (accountId) => byAccount.get(accountId) ?? [] };
}

/**
 * `vigil serve`: L4M's API on localhost, over the local mode's services, for the official
 * AWS SDK client (`endpoint: http://localhost:<port>`). Every request but `GET /health` and
 * the signed links of alert messages must carry a valid Signature V4 for the service
 * `lookoutmetrics`. Requests are bounded (body, headers, time) before any of this runs
 * (shared/api/http-server.ts).
 */
export async function serve(options: { port: number; host?: string; services: Services; tenants: Tenants; limits?: Partial<HttpLimits> }): Promise<{ server: Server; url: string }> {
  const { services, tenants } = options;
  const verifier = new SigV4Verifier((key) => tenants.credentials.get(key), services.clock);
  const handle = router(services);
  const answer: Handler = async ({ method, path, query, headers, body, requestId }) => {
    if (method === "GET" && path === "/health") return handle({ method, path, query, body, requestId });
    try {
      // The links in alert messages carry their own signature.
      if (isPage(path)) return await page(services, { method, path, query, body });
      const principal = await verifier.verify({ method, path, query, headers, body });
      return await handle({ method, path, query, body, requestId, ...(tenants.scopes.has(principal.tenant) ? { scope: tenants.scopes.get(principal.tenant)! } : {}) });
    } catch (e) {
      // A refusal is answered; anything else is the server's 500, reported with its request id.
      if (e instanceof VigilError && e.httpStatus < 500) return errorResponse(e, requestId);
      throw e;
    }
  };
  const server = createBoundedServer(answer, { ...(options.limits ? { limits: options.limits } : {}), onError: (error, requestId) => services.observer.failed("api request", error, { requestId }) });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { server, url: `http://${options.host ?? "127.0.0.1"}:${port}` };
}
