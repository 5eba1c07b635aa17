import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { errorResponse, router } from "../shared/api/router.ts";
import { routes } from "../shared/api/routes.ts";
import { SigV4Verifier, type Credential } from "../shared/api/sigv4.ts";
import { ValidationException } from "../shared/model/errors.ts";
import { localRuntime } from "../shared/runtime/local.ts";
import { localLinkSecret } from "../shared/runtime/local-alerting.ts";
import { isPage, page } from "../shared/api/pages.ts";

/** The access key `vigil serve` accepts when none is configured, for trying it out (README). */
export const DEFAULT_ACCESS_KEY_ID = "VIGILLOCALKEY";
export const DEFAULT_SECRET_ACCESS_KEY = "vigil-local-secret";

/**
 * Who may call: VIGIL_ACCESS_KEY_ID / VIGIL_SECRET_ACCESS_KEY (tenant "default"), and any
 * more in VIGIL_TENANTS as `tenant:accessKeyId:secret` separated by commas.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): Map<string, Credential> {
  const out = new Map<string, Credential>([[env["VIGIL_ACCESS_KEY_ID"] ?? DEFAULT_ACCESS_KEY_ID, { secretAccessKey: env["VIGIL_SECRET_ACCESS_KEY"] ?? DEFAULT_SECRET_ACCESS_KEY, tenant: "default" }]]);
  for (const entry of (env["VIGIL_TENANTS"] ?? "").split(",").filter((e) => e.trim())) {
    const [tenant, key, secret] = entry.trim().split(":");
    if (!tenant || !key || !secret) throw new ValidationException(`VIGIL_TENANTS entry '${entry.trim().split(":")[0]}:…' is not tenant:accessKeyId:secret`);
    out.set(key, { secretAccessKey: secret, tenant });
  }
  return out;
}

/**
 * `vigil serve`: L4M's API on localhost, over the local data directory, for the official
 * AWS SDK client (`endpoint: http://localhost:<port>`). Every request but `GET /health`
 * must carry a valid Signature V4 for the service `lookoutmetrics`.
 */
export async function serve(options: { port: number; host?: string; dataDir: string; credentials: Map<string, Credential>; linkSecret?: string; now?: () => number }): Promise<{ server: Server; url: string }> {
  const now = options.now ?? Date.now;
  const verifier = new SigV4Verifier((key) => options.credentials.get(key), now);
  const linkSecret = options.linkSecret ?? localLinkSecret(options.dataDir);
  const handle = router(routes((at) => localRuntime(options.dataDir, () => at), now), (error, request) => process.stderr.write(`vigil serve: ${request.requestId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const requestId = randomUUID();
      const [path = "/", query = ""] = (req.url ?? "/").split("?", 2) as [string, string?];
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
      const reply = async () => {
        if (req.method === "GET" && path === "/health") return handle({ method: "GET", path, query, body, requestId });
        // The links in alert messages carry their own signature.
        if (isPage(path)) return page(localRuntime(options.dataDir, now), linkSecret, { method: req.method ?? "GET", path, query, body }, now()).catch((e: unknown) => errorResponse(e, requestId));
        try {
          const principal = await verifier.verify({ method: req.method ?? "GET", path, query, headers, body });
          return handle({ method: req.method ?? "GET", path, query, body, requestId, principal });
        } catch (e) {
          return errorResponse(e, requestId);
        }
      };
      void reply().then((r) => {
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { server, url: `http://${options.host ?? "127.0.0.1"}:${port}` };
}
