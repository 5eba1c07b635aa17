import { createHash, timingSafeEqual } from "node:crypto";
import type { Server } from "node:http";
import type { ApiResponse } from "../shared/api/router.ts";
import { openService, simulatedClock, systemClock, type OpenServiceOptions, type RunningService, type ServeConfig } from "../shared/runtime/service/index.ts";
import { listen, readiness, shut, tenantsFromConfig, type OperationsRoute, type Tenants } from "./serve.ts";

/**
 * `GET /ready` (store and scheduler up, else 503) and `GET /metrics` (Prometheus' text
 * format), the latter shown to a scraper with the metrics token (scrapeRefusal).
 */
export function operationsOf(service: RunningService, access: { readonly metricsToken?: string | undefined; readonly othersMayCall: boolean }): OperationsRoute {
  return async (path, headers) => {
    if (path === "/ready") {
      const { ready, checks } = await service.ready();
      return readiness(ready, checks);
    }
    if (path === "/metrics") {
      const refusal = scrapeRefusal(access.metricsToken, access.othersMayCall, headers["authorization"]);
      if (refusal) return refusal;
      return { status: 200, headers: { "content-type": service.observer.registry.contentType }, body: await service.observer.registry.metrics() };
    }
    return undefined;
  };
}

/**
 * Why a scrape of /metrics is refused, or undefined when it may be answered. Its figures
 * count every tenant's work (intervals, anomalies, deliveries): with a token, only a bearer
 * of it is answered (401 otherwise); without one, anyone while the default tenant alone can
 * call, and no one (403) once other tenants can. Tokens are compared by their digests, in
 * constant time, so the answer's timing tells nothing of a wrong guess's closeness.
 */
export function scrapeRefusal(token: string | undefined, othersMayCall: boolean, authorization: string | undefined): ApiResponse | undefined {
  const refuse = (status: number, message: string, headers: Record<string, string> = {}): ApiResponse => ({ status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ __type: "AccessDeniedException", Message: message }) });
  if (token === undefined) return othersMayCall ? refuse(403, "GET /metrics counts every tenant's work: set metricsToken (VIGIL_METRICS_TOKEN) and scrape with it as a bearer token") : undefined;
  // The scheme's name is case-insensitive (RFC 9110, 11.1), and spaces may follow it.
  const offered = /^bearer +([\x21-\x7e]{1,256})$/i.exec(authorization ?? "")?.[1];
  const digest = (text: string) => createHash("sha256").update(text).digest();
  if (offered !== undefined && timingSafeEqual(digest(offered), digest(token))) return undefined;
  return refuse(401, "GET /metrics needs the metrics token: Authorization: Bearer <metricsToken>", { "www-authenticate": 'Bearer realm="vigil-metrics"' });
}

export interface ServingService {
  readonly service: RunningService;
  /** Who may call, and where each tenant may read. */
  readonly tenants: Tenants;
  readonly server: Server;
  readonly url: string;
  /** Stops taking requests, drains the loop within the config's drainSeconds, and closes. */
  stop(): Promise<"drained" | "cut">;
}

/**
 * `vigil serve`: the API and the service loop over one data directory. The tenants' data
 * roots are checked first: a root that would grant Vigil's own data, or names no tenant,
 * stops the start before the data directory is touched.
 */
export async function startServing(config: ServeConfig, options: Omit<OpenServiceOptions, "dataRootsOf" | "privateTargets"> & { simulate?: { start: number; rate: number } } = {}): Promise<ServingService> {
  const tenants = await tenantsFromConfig(config);
  const clock = options.clock ?? (options.simulate ? simulatedClock(options.simulate.start, options.simulate.rate) : systemClock);
  // Bound first: the services take the address bound (a port the system chose, for port 0) as theirs, for the links in alert messages.
  const { server, url, attach } = await listen({
    port: config.port,
    host: config.host,
    allowedHosts: [...(config.publicUrl ? [new URL(config.publicUrl).hostname] : []), ...(config.allowedHosts ?? [])],
    ...(config.maxConnectionsPerClient ? { limits: { maxConnectionsPerClient: config.maxConnectionsPerClient } } : {}),
    tenants,
  });
  const service = await openService(config, { ...options, clock, ...(options.simulate ? { linkClock: Date.now } : {}), url, dataRootsOf: tenants.dataRootsOf, privateTargets: tenants.privateTargets }).catch(async (e: unknown) => {
    await shut(server);
    throw e;
  });
  try {
    attach({ services: service.services, operations: operationsOf(service, { metricsToken: config.metricsToken, othersMayCall: tenants.scopes.size > 1 }), onAnswer: (entry) => service.observer.request(entry) });
    let stopping: Promise<"drained" | "cut"> | undefined;
    return {
      service,
      tenants,
      server,
      url,
      stop: () =>
        (stopping ??= (async () => {
          // No new requests; those under way finish. Idle keep-alive connections are closed.
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          const outcome = await service.stop(config.drainSeconds * 1000);
          server.closeAllConnections();
          await closed;
          return outcome;
        })()),
    };
  } catch (e) {
    await service.stop(0);
    await shut(server);
    throw e;
  }
}

/** Stops `running` on SIGTERM or SIGINT (draining), then exits 0. */
export function stopOnSignal(running: Pick<ServingService, "stop">, drainSeconds: number, say: (line: string) => void): void {
  const stop = (signal: string) => {
    say(`vigil serve: ${signal}: draining (at most ${drainSeconds} s)`);
    void running.stop().then((outcome) => {
      say(`vigil serve: stopped (${outcome === "drained" ? "work under way finished" : "work under way was cut; it runs again at the next start"})`);
      process.exit(0);
    });
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
