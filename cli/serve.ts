import { createHash } from "node:crypto";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { DEFAULT_ACCOUNT_ID, type Scope, type Services } from "../shared/app/index.ts";
import { createBoundedServer, type Handler, type HttpLimits } from "../shared/api/http-server.ts";
import { isPage, page } from "../shared/api/pages.ts";
import { errorResponse, router, type ApiResponse } from "../shared/api/router.ts";
import { SigV4Verifier, type Credential } from "../shared/api/sigv4.ts";
import { ValidationException, VigilError } from "../shared/model/errors.ts";
import type { ServeConfig } from "../shared/runtime/service/index.ts";

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
  /** Each tenant's scope, by tenant name. */
  readonly scopes: ReadonlyMap<string, Scope>;
}

/**
 * Who may call: VIGIL_ACCESS_KEY_ID / VIGIL_SECRET_ACCESS_KEY (tenant "default"), and any
 * more in VIGIL_TENANTS as `tenant:accessKeyId:secret[:account]` separated by commas.
 */
export function tenantsFromEnv(env: NodeJS.ProcessEnv): Tenants {
  const credentials = new Map<string, Credential>([[env["VIGIL_ACCESS_KEY_ID"] ?? DEFAULT_ACCESS_KEY_ID, { secretAccessKey: env["VIGIL_SECRET_ACCESS_KEY"] ?? DEFAULT_SECRET_ACCESS_KEY, tenant: "default" }]]);
  const scopes = new Map<string, Scope>([["default", { tenant: "default", accountId: DEFAULT_ACCOUNT_ID }]]);
  for (const entry of (env["VIGIL_TENANTS"] ?? "").split(",").filter((e) => e.trim())) {
    const [tenant, key, secret, account, ...rest] = entry.trim().split(":");
    if (!tenant || !key || !secret || rest.length) throw new ValidationException(`VIGIL_TENANTS entry '${entry.trim().split(":")[0]}:…' is not tenant:accessKeyId:secret[:account]`);
    if (account !== undefined && !/^\d{12}$/.test(account)) throw new ValidationException(`VIGIL_TENANTS entry '${tenant}:…' names an account that is not 12 digits`);
    credentials.set(key, { secretAccessKey: secret, tenant });
    scopes.set(tenant, { tenant, accountId: account ?? accountOf(tenant) });
  }
  const accounts = [...scopes.values()].map((s) => s.accountId);
  if (new Set(accounts).size !== accounts.length) throw new ValidationException("VIGIL_TENANTS: two tenants share an account");
  return { credentials, scopes };
}

/** The tenants `vigil serve`'s settings name; each may read metric files under the data roots alone, when given. */
export function tenantsFromConfig(config: Pick<ServeConfig, "accessKeyId" | "secretAccessKey" | "tenants" | "dataRoots">): Tenants {
  const roots = config.dataRoots ? { dataRoots: config.dataRoots.map((r) => resolve(r)) } : {};
  const credentials = new Map<string, Credential>([[config.accessKeyId ?? DEFAULT_ACCESS_KEY_ID, { secretAccessKey: config.secretAccessKey ?? DEFAULT_SECRET_ACCESS_KEY, tenant: "default" }]]);
  const scopes = new Map<string, Scope>([["default", { tenant: "default", accountId: DEFAULT_ACCOUNT_ID, ...roots }]]);
  for (const t of config.tenants ?? []) {
    if (scopes.has(t.name) || credentials.has(t.accessKeyId)) throw new ValidationException(`Tenant ${t.name} is named twice, or its access key is another's`);
    credentials.set(t.accessKeyId, { secretAccessKey: t.secretAccessKey, tenant: t.name });
    scopes.set(t.name, { tenant: t.name, accountId: t.accountId ?? accountOf(t.name), ...roots });
  }
  const accounts = [...scopes.values()].map((s) => s.accountId);
  if (new Set(accounts).size !== accounts.length) throw new ValidationException("Two tenants share an account");
  return { credentials, scopes };
}

/** What `vigil serve` answers beside the API, unsigned: `GET /ready` and `GET /metrics` (the service's operations). */
export type OperationsRoute = (path: string) => Promise<ApiResponse | undefined>;

/**
 * `vigil serve`: L4M's API on localhost, over the local mode's services, for the official
 * AWS SDK client (`endpoint: http://localhost:<port>`). Every request but `GET /health` and
 * the signed links of alert messages must carry a valid Signature V4 for the service
 * `lookoutmetrics`. Requests are bounded (body, headers, time) before any of this runs
 * (shared/api/http-server.ts).
 */
export async function serve(options: { port: number; host?: string; services: Services; tenants: Tenants; limits?: Partial<HttpLimits>; operations?: OperationsRoute; onAnswer?: (entry: { requestId: string; method: string; path: string; status: number; ms: number }) => void }): Promise<{ server: Server; url: string }> {
  const { services, tenants } = options;
  // Signatures are checked against the real clock, also when detection runs on a simulated one.
  const verifier = new SigV4Verifier((key) => tenants.credentials.get(key), services.linkClock);
  const handle = router(services);
  const respond: Handler = async ({ method, path, query, headers, body, requestId }) => {
    if (method === "GET" && path === "/health") return handle({ method, path, query, body, requestId });
    const operation = method === "GET" && options.operations ? await options.operations(path) : undefined;
    if (operation) return operation;
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
  // One log line per request answered, with its id.
  const answer: Handler = async (request) => {
    const started = performance.now();
    const response = await respond(request);
    options.onAnswer?.({ requestId: request.requestId, method: request.method, path: request.path, status: response.status, ms: Math.round(performance.now() - started) });
    return response;
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
