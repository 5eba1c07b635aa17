import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";

/**
 * An HTTP API on loopback in front of a Lambda handler: each request becomes the payload
 * format 2.0 event API Gateway gives the api function (raw path and query, lower-cased headers,
 * the body, base64 when it is not text), and the handler's answer becomes the response. No
 * authorizer runs here: the api function checks a console token itself as well.
 */
export interface HttpApiEvent {
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded: boolean;
  readonly requestContext: { readonly requestId: string; readonly http: { readonly method: string } };
}
export type HttpApiHandler = (event: HttpApiEvent) => Promise<{ statusCode: number; headers?: Record<string, string | number | boolean>; body?: string }>;

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startHttpApi(handler: () => HttpApiHandler): Promise<{ url: string; stop: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await read(req);
      const url = new URL(req.url ?? "/", "http://api");
      const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(",") : v]])));
      const text = /^(text\/|application\/(json|x-www-form-urlencoded))/.test(headers["content-type"] ?? "");
      const event: HttpApiEvent = {
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        ...(raw.length ? { body: raw.toString(text ? "utf8" : "base64") } : {}),
        isBase64Encoded: raw.length > 0 && !text,
        requestContext: { requestId: randomUUID(), http: { method: req.method ?? "GET" } },
      };
      const answer = await handler()(event);
      res.writeHead(answer.statusCode, Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k, String(v)])));
      res.end(answer.body ?? "");
    })().catch((e: unknown) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
