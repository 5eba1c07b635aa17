import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { consoleFiles, isConsolePath } from "../console/server.ts";
import { DEFAULT_ACCOUNT_ID, type Scope, type Services } from "../shared/app/index.ts";
import { createBoundedServer, hostsAnswered, isLoopback, type Handler, type HttpLimits, type PlainHeaders } from "../shared/api/http-server.ts";
import { isPage, page } from "../shared/api/pages.ts";
import { errorResponse, healthAnswer, json, router, type ApiResponse } from "../shared/api/router.ts";
import { consoleOperationPath, ConsoleSessions } from "../shared/api/session.ts";
import { claimsSignature, SigV4Verifier, type Credential } from "../shared/api/sigv4.ts";
import { ServiceUnavailableException, ValidationException, VigilError } from "../shared/model/errors.ts";
import { checkedRoots, DATA_FOLDER } from "../shared/runtime/data-roots.ts";
import type { AnsweredRequest, ServeConfig } from "../shared/runtime/service/index.ts";

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
  /** Whether an account's Slack and webhook URLs may reach private addresses: the default tenant's, and those of the tenants `privateTargets` names. */
  readonly privateTargets: (accountId: string) => boolean;
}

/**
 * Who may call, from `vigil serve`'s settings (config.ts: the file, then VIGIL_ACCESS_KEY_ID,
 * VIGIL_SECRET_ACCESS_KEY and VIGIL_TENANTS, then flags): the default tenant and each tenant
 * named. Where each may read metric files: its data roots (`dataRoots`, VIGIL_DATA_ROOTS,
 * `--data-root` for the default tenant), checked against Vigil's own data directory; the
 * default tenant reads `<data dir>/files` unless given others, another tenant reads no
 * local file unless granted one. Roots for a tenant there is not are refused. Whose Slack
 * and webhook URLs may reach private addresses: the default tenant's, and those of the
 * tenants `privateTargets` names.
 */
export async function tenantsFromConfig(config: Pick<ServeConfig, "accessKeyId" | "secretAccessKey" | "tenants" | "dataRoots" | "dataDir" | "privateTargets">): Promise<Tenants> {
  const credentials = new Map<string, Credential>([[config.accessKeyId ?? DEFAULT_ACCESS_KEY_ID, { secretAccessKey: config.secretAccessKey ?? DEFAULT_SECRET_ACCESS_KEY, tenant: "default" }]]);
  const accounts = new Map<string, string>([["default", DEFAULT_ACCOUNT_ID]]);
  for (const t of config.tenants ?? []) {
    if (accounts.has(t.name) || credentials.has(t.accessKeyId)) throw new ValidationException(`Tenant ${t.name} is named twice, or its access key is another's`);
    credentials.set(t.accessKeyId, { secretAccessKey: t.secretAccessKey, tenant: t.name });
    accounts.set(t.name, t.accountId ?? accountOf(t.name));
  }
  if (new Set(accounts.values()).size !== accounts.size) throw new ValidationException("Two tenants share an account");

  const granted = config.dataRoots ?? {};
  for (const tenant of Object.keys(granted)) if (!accounts.has(tenant)) throw new ValidationException(`The data roots (dataRoots, VIGIL_DATA_ROOTS) name tenant ${tenant}, which is none of the tenants (tenants, VIGIL_TENANTS)`, { fields: [{ Name: "dataRoots", Message: `names an unknown tenant ${tenant}` }] });
  const roots = await checkedRoots({ ...granted, default: granted["default"] ?? [join(config.dataDir, DATA_FOLDER)] }, config.dataDir);
  const scopes = new Map<string, Scope>([...accounts].map(([tenant, accountId]) => [tenant, { tenant, accountId, dataRoots: roots.get(tenant) ?? [] }]));
  const byAccount = new Map([...scopes.values()].map((s) => [s.accountId, s.dataRoots ?? []]));
  for (const tenant of config.privateTargets ?? []) if (!accounts.has(tenant)) throw new ValidationException(`The private targets (privateTargets, VIGIL_PRIVATE_TARGETS) name tenant ${tenant}, which is none of the tenants (tenants, VIGIL_TENANTS)`, { fields: [{ Name: "privateTargets", Message: `names an unknown tenant ${tenant}` }] });
  const mayReachPrivate = new Set([DEFAULT_ACCOUNT_ID, ...(config.privateTargets ?? []).map((t) => accounts.get(t)!)]);
  return { credentials, scopes, dataRootsOf: (accountId) => byAccount.get(accountId) ?? [], privateTargets: (accountId) => mayReachPrivate.has(accountId) };
}

/** What `vigil serve` answers beside the API, without a signature: `GET /ready` and `GET /metrics` (the service's operations; /metrics checks its own token). */
export type OperationsRoute = (path: string, headers: Readonly<Record<string, string | undefined>>) => Promise<ApiResponse | undefined>;

/**
 * Refuses to start where others could sign with the public default secret: reached beyond this
 * machine (listening on another address, or answering a name that is not loopback, its public
 * URL's host or an allowed host, as a reverse proxy in front of a server on 127.0.0.1 sends),
 * while any key's secret is the public default; or answering other tenants, while the default
 * tenant's is (any of them, or anyone on this machine, could sign as the operator, whose alerts
 * may reach private addresses and who reads the data directory's files).
 */
function checkExposure(host: string, allowedHosts: readonly string[], tenants: Tenants): void {
  const credentials = [...tenants.credentials.values()];
  const isPublic = (c: Credential) => c.secretAccessKey === DEFAULT_SECRET_ACCESS_KEY;
  const refused = (message: string) => new ValidationException(message, { fields: [{ Name: "secretAccessKey", Message: "is the public default" }] });
  const beyond = [host, ...allowedHosts].find((h) => !isLoopback(h));
  if (beyond !== undefined && credentials.some(isPublic)) {
    const where = beyond === host ? `would listen on ${host}, beyond this machine,` : `would answer ${beyond} (publicUrl, allowedHosts), beyond this machine,`;
    throw refused(`vigil serve ${where} with the public default secret (${DEFAULT_SECRET_ACCESS_KEY}): set accessKeyId and secretAccessKey (VIGIL_ACCESS_KEY_ID, VIGIL_SECRET_ACCESS_KEY) to your own, or listen on 127.0.0.1 for this machine alone`);
  }
  if (tenants.scopes.size > 1 && credentials.some((c) => c.tenant === "default" && isPublic(c))) {
    throw refused(`vigil serve would answer other tenants (tenants, VIGIL_TENANTS) with the public default secret (${DEFAULT_SECRET_ACCESS_KEY}) for the default tenant, with which any of them could act as the operator: set secretAccessKey (VIGIL_SECRET_ACCESS_KEY) to your own`);
  }
}

/**
 * Whether a request's headers look like a caller's, so its body may take the server's whole
 * request time: a live console session, or a Signature V4 for L4M. The key is not looked up:
 * how long a body may take must not tell which keys exist (sigv4.ts).
 */
function vouchedBy(sessions: ConsoleSessions): (headers: PlainHeaders) => boolean {
  return (headers) => claimsSignature(headers["authorization"]) || sessions.holdsLive({ headers, secure: false });
}

/**
 * `vigil serve`: L4M's API on localhost, over the local mode's services, for the official
 * AWS SDK client (`endpoint: http://localhost:<port>`). Every request but `GET /health` and
 * the signed links of alert messages must carry a valid Signature V4 for the service
 * `lookoutmetrics`. Requests are bounded (body, headers, time) before any of this runs
 * (shared/api/http-server.ts), and only those whose Host names this server are answered:
 * its address (`localhost` too on loopback) and `allowedHosts` (its public URL's host, say),
 * so that a page whose domain is rebound to this address in DNS reaches nothing.
 */
export async function serve(options: ServeOptions): Promise<{ server: Server; url: string }> {
  const listening = await listen(options);
  listening.attach(options);
  return { server: listening.server, url: listening.url };
}

/** What answers `vigil serve`'s requests: the services, and the routes and log the service loop adds. */
export interface ServeParts {
  readonly services: Services;
  readonly operations?: OperationsRoute;
  readonly onAnswer?: (entry: AnsweredRequest) => void;
}

/** Requests answered while starting that are kept to be told once the service attaches: a flood while starting is told in part, its memory bounded. */
export const STARTING_ANSWERS_KEPT = 1000;

export interface ServeOptions extends ServeParts {
  readonly port: number;
  readonly host?: string;
  readonly allowedHosts?: readonly string[];
  readonly tenants: Tenants;
  readonly limits?: Partial<HttpLimits>;
}

/** A server bound to its port, answering once its parts are attached (503 before). */
export interface Listening {
  readonly server: Server;
  /** Its address, with the port the system gave when asked for port 0. */
  readonly url: string;
  attach(parts: ServeParts): void;
}

/**
 * Binds `vigil serve`'s server before its services are opened, so that what they are given
 * as their address (the links in alert messages) is the one bound, also for `--port 0`.
 * A request that comes before `attach` is answered 503.
 */
export async function listen(options: Omit<ServeOptions, keyof ServeParts>): Promise<Listening> {
  const { tenants } = options;
  const host = options.host ?? "127.0.0.1";
  checkExposure(host, options.allowedHosts ?? [], tenants);
  let attached: { answer: Handler; vouched: (headers: PlainHeaders) => boolean; onError: (error: unknown, requestId: string) => void } | undefined;
  // Answered before the service's log and figures exist: told to them once it attaches.
  const early: AnsweredRequest[] = [];
  const answerStarting = (request: Parameters<Handler>[0]) => {
    const response = starting(request);
    if (early.length < STARTING_ANSWERS_KEPT) early.push({ requestId: request.requestId, method: request.method, path: request.path, status: response.status, ms: 0 });
    return Promise.resolve(response);
  };
  const server = createBoundedServer((request) => (attached ? attached.answer(request) : answerStarting(request)), {
    ...(options.limits ? { limits: options.limits } : {}),
    answersHost: hostsAnswered(host, options.allowedHosts),
    vouched: (headers) => attached?.vouched(headers) ?? false,
    onError: (error, requestId) => attached?.onError(error, requestId),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new ValidationException(`Port ${options.port} on ${host} is in use (by another vigil serve, or another program): stop it, or choose another with --port`, { fields: [{ Name: "port", Message: "is in use" }] }) : e),
    );
    server.listen(options.port, host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    server,
    // An IPv6 address is bracketed in a URL (RFC 3986): http://[::1]:8087.
    url: `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`,
    attach(parts) {
      const sessions = new ConsoleSessions((key) => tenants.credentials.get(key), { now: parts.services.linkClock });
      attached = { answer: answering(parts, tenants, sessions), vouched: vouchedBy(sessions), onError: (error, requestId) => parts.services.observer.failed("api request", error, { requestId }) };
      for (const entry of early.splice(0)) parts.onAnswer?.(entry);
    },
  };
}

/**
 * The answer before the services are attached: the process is up (`/health`), not ready
 * (`/ready`, in its usual shape), and every other request is asked to come again in a moment.
 */
function starting(request: { readonly method: string; readonly path: string; readonly requestId: string }): ApiResponse {
  if (request.method === "GET" && request.path === "/health") return healthAnswer(request.requestId);
  if (request.method === "GET" && request.path === "/ready") return readiness(false, { services: "opening" });
  const refused = errorResponse(new ServiceUnavailableException("vigil serve is starting: try again in a moment"), request.requestId);
  return { ...refused, headers: { ...refused.headers, "retry-after": "1" } };
}

/** `GET /ready`: 200 when every check passes, else 503, with each check's state. */
export const readiness = (ready: boolean, checks: Readonly<Record<string, string>>): ApiResponse => json(ready ? 200 : 503, { status: ready ? "ready" : "not ready", checks });

/** Closes a server that will not serve: its connections too, which `close` alone would wait for (a slow client's, for good). */
export function shut(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

/** The handler of every request: the console, the service's routes, the signed links, and L4M's API. */
function answering(parts: ServeParts, tenants: Tenants, sessions: ConsoleSessions): Handler {
  const { services } = parts;
  // Signatures are checked against the real clock, also when detection runs on a simulated one.
  const verifier = new SigV4Verifier((key) => tenants.credentials.get(key), services.linkClock);
  const handle = router(services);
  // Sessions expire by the real clock too.
  const consolePages = consoleFiles(fileURLToPath(new URL("../dist/console/", import.meta.url)), { SignIn: "keys" }, (request) => sessions.sessionOf({ headers: request.headers ?? {}, secure: false }));
  const respond: Handler = async ({ method, path, query, headers, body, requestId, client }) => {
    // vigil serve speaks plain HTTP: its session cookie is not marked Secure.
    const edge = { method, path, headers, body, requestId, secure: false, client };
    const consoleCall = consoleOperationPath(path);
    if (consoleCall) {
      try {
        const { tenant } = sessions.principalOf(edge);
        return await handle({ method, path: consoleCall, query, body, requestId, ...(tenants.scopes.has(tenant) ? { scope: tenants.scopes.get(tenant)! } : {}) });
      } catch (e) {
        if (e instanceof VigilError && e.httpStatus < 500) return errorResponse(e, requestId);
        throw e;
      }
    }
    if (isConsolePath(path)) return sessions.handle(edge) ?? consolePages(edge);
    if (method === "GET" && path === "/health") return handle({ method, path, query, body, requestId });
    const operation = method === "GET" && parts.operations ? await parts.operations(path, headers) : undefined;
    if (operation) return operation;
    try {
      // The links in alert messages carry their own signature.
      if (isPage(path)) return await page(services, { method, path, query, body, ...(typeof headers["accept"] === "string" ? { accept: headers["accept"] } : {}) });
      const principal = await verifier.verify({ method, path, query, headers, body });
      return await handle({ method, path, query, body, requestId, ...(tenants.scopes.has(principal.tenant) ? { scope: tenants.scopes.get(principal.tenant)! } : {}) });
    } catch (e) {
      // A refusal is answered; anything else is the server's 500, reported with its request id.
      if (e instanceof VigilError && e.httpStatus < 500) return errorResponse(e, requestId);
      throw e;
    }
  };
  // One log line per request answered, with its id.
  return async (request) => {
    const started = performance.now();
    const response = await respond(request);
    parts.onAnswer?.({ requestId: request.requestId, method: request.method, path: request.path, status: response.status, ms: Math.round(performance.now() - started) });
    return response;
  };
}
