import { createServer } from "node:http";

/** Who signed a request: the access key in its SigV4 Authorization header, and its session token, if any. */
export const signerOf = (headers: Record<string, string | string[] | undefined>) => ({
  accessKeyId: /Credential=([^/]+)\//.exec(String(headers["authorization"]))?.[1] ?? "",
  sessionToken: typeof headers["x-amz-security-token"] === "string" ? headers["x-amz-security-token"] : null,
});

/** What a fake AWS service answers: a status, a content type and a body. */
export interface FakeReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/**
 * A local HTTP server for a fake AWS service: it refuses requests that are not
 * SigV4-signed (as AWS does) and hands the rest, with their body, to `handle` (which may
 * take its time: a slow service). In-process
 * and unreferenced: it ends with the test process.
 */
export async function startFakeAwsServer(handle: (headers: Record<string, string | string[] | undefined>, body: string, request: { method: string; path: string }) => FakeReply | Promise<FakeReply>, unsigned: () => FakeReply): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const signed = String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ");
      const reply = signed ? await handle(req.headers, Buffer.concat(chunks).toString("utf8"), { method: req.method ?? "GET", path: req.url ?? "/" }) : unsigned();
      res.writeHead(reply.status, { "content-type": reply.contentType, ...reply.headers });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return `http://127.0.0.1:${address.port}`;
}
