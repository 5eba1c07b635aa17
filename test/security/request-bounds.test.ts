import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantsFromConfig, serve } from "../../cli/serve.ts";
import { tempDir, localAt } from "../builders.ts";
import { peakRss, rawExchange, signedHeaders, startVigilServe } from "./wire.ts";

const MiB = 1 << 20;
// The limits `vigil serve` keeps (shared/api/http-server.ts, DEFAULT_LIMITS), as a client meets them.
const MAX_BODY = 6 * MiB;
const MAX_HEADERS = 100;
const MAX_HEADER_BYTES = 10 * 1024;
const portOf = (url: string) => Number(new URL(url).port);

async function listDetectors(url: string): Promise<number> {
  const headers = await signedHeaders(url, "POST", "/ListAnomalyDetectors", "{}");
  return (await fetch(`${url}/ListAnomalyDetectors`, { method: "POST", headers, body: "{}" })).status;
}

describe("an oversized unsigned body, against `vigil serve` in its own process", () => {
  let server: Awaited<ReturnType<typeof startVigilServe>>;
  beforeAll(async () => {
    server = await startVigilServe(join(await tempDir(), "vigil"));
  });
  afterAll(() => server.stop());

  it("is refused with 413 before the limit is passed, holds no memory for it, and the server answers afterwards", async () => {
    const port = portOf(server.url);
    const before = await peakRss(server.child.pid!);
    // Declared: refused on the headers alone, before a byte of the body is read.
    const declared = await rawExchange(port, `POST /CreateAnomalyDetector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${600 * MiB}\r\n\r\n`, { bodyBytes: 600 * MiB });
    expect(declared.status, declared.text.slice(0, 300)).toBe(413);
    expect(declared.text).toMatch(/"__type":"ValidationException".*larger than 6291456 bytes/);
    expect(declared.bytesSent).toBeLessThan(600 * MiB);
    // Chunked, with no length to go by: refused once the count passes the limit.
    const chunked = await rawExchange(port, "POST /CreateAnomalyDetector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", { bodyBytes: 600 * MiB, chunked: true });
    expect(chunked.status, chunked.text.slice(0, 300)).toBe(413);
    expect(chunked.bytesSent).toBeLessThan(100 * MiB);

    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(await listDetectors(server.url)).toBe(200);
    // Two 600 MB attempts moved the server's peak memory by less than a few bodies' worth.
    expect((await peakRss(server.child.pid!)) - before).toBeLessThan(100 * MiB);
  });

  it("takes a body just under the limit, and refuses one just over it", async () => {
    const port = portOf(server.url);
    const ok = await rawExchange(port, `POST /ListAnomalyDetectors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${MAX_BODY}\r\n\r\n`, { bodyBytes: MAX_BODY });
    // Read whole, then refused for its signature (there is none), not its size.
    expect(ok.status, ok.text.slice(0, 300)).toBe(403);
    const over = await rawExchange(port, `POST /ListAnomalyDetectors HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`, { bodyBytes: MAX_BODY + 1, chunked: true });
    expect(over.status).toBe(413);
  });
});

describe("slow senders and oversized headers", () => {
  let server: Server;
  let url: string;
  // One client holds every connection here (the idle ones): its own cap is not what these are about.
  const limits = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300, timeoutCheckMs: 50, maxConnectionsPerClient: 128 };
  beforeAll(async () => {
    const dataDir = join(await tempDir(), "vigil");
    ({ server, url } = await serve({ port: 0, services: localAt(dataDir, Date.now), tenants: await tenantsFromConfig({ dataDir }), limits }));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("cuts off a client that never finishes its headers, or its body", async () => {
    const started = Date.now();
    const [headers, body] = await Promise.all([
      rawExchange(portOf(url), "POST /ListAnomalyDetectors HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", { waitMs: 5_000 }),
      rawExchange(portOf(url), "POST /ListAnomalyDetectors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{", { waitMs: 5_000 }),
    ]);
    expect(headers.closed).toBe(true);
    expect(headers.status).toBe(408);
    expect(body.closed).toBe(true);
    expect(body.status).toBe(408);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await listDetectors(url)).toBe(200);
  });

  it("refuses too many headers and headers too large with 431, and answers afterwards", async () => {
    const many = Array.from({ length: MAX_HEADERS + 1 }, (_, i) => `X-H${i}: v\r\n`).join("");
    const tooMany = await rawExchange(portOf(url), `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${many}\r\n`);
    expect(tooMany.status).toBe(431);
    expect(tooMany.text).toMatch(/more than 100 headers/);
    const large = await rawExchange(portOf(url), `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(MAX_HEADER_BYTES)}\r\n\r\n`);
    expect(large.status).toBe(431);
    const nonsense = await rawExchange(portOf(url), "NOT HTTP AT ALL\r\n\r\n");
    expect(nonsense.status).toBe(400);
    expect(await listDetectors(url)).toBe(200);
  });

  it("serves others while many connections sit idle", async () => {
    const idle = Array.from({ length: 50 }, () => rawExchange(portOf(url), "POST /ListAnomalyDetectors HTTP/1.1\r\nHost: 127.0.0.1\r\n", { waitMs: 5_000 }));
    expect(await listDetectors(url)).toBe(200);
    expect((await Promise.all(idle)).every((a) => a.closed)).toBe(true);
  });
});
