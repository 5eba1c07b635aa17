import { request as httpRequest, type Server } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createBoundedServer, type Handler, type HttpLimits } from "../../../shared/api/http-server.ts";
import { rawExchange } from "../../security/wire.ts";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function start(handler: Handler, limits: Partial<HttpLimits> = {}, onError?: (e: unknown, id: string) => void): Promise<number> {
  server = createBoundedServer(handler, { limits, ...(onError ? { onError } : {}) });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

const echo: Handler = async (r) => ({ status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ method: r.method, path: r.path, query: r.query, length: r.body.length, id: r.requestId, host: r.headers["host"] }) });

describe("createBoundedServer", () => {
  it("hands the handler plain data: method, path, query, lower-case headers, the body as text, a request id", async () => {
    const port = await start(echo);
    const res = await fetch(`http://127.0.0.1:${port}/tags/a%3Ab?tagKeys=x`, { method: "POST", body: "é".repeat(10) });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ method: "POST", path: "/tags/a%3Ab", query: "tagKeys=x", length: 10, host: `127.0.0.1:${port}` });
    expect(res.headers.get("x-amzn-requestid")).toBe(body["id"]);
  });

  it("answers 500 with the request id when the handler throws or rejects, logs it under that id, and goes on", async () => {
    const logged: string[] = [];
    let calls = 0;
    const port = await start(
      (r) => {
        calls++;
        if (r.path === "/sync") throw new RangeError("sync boom");
        if (r.path === "/async") return Promise.reject(new Error("async boom"));
        if (r.path === "/header") return Promise.resolve({ status: 200, headers: { "x-value": "line\nbreak" }, body: "" });
        return echo(r);
      },
      {},
      (e, id) => logged.push(`${id}: ${(e as Error).message}`),
    );
    for (const path of ["/sync", "/async"]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      const id = res.headers.get("x-amzn-requestid")!;
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ __type: "InternalServerException", Message: `Internal error; request id ${id}` });
      expect(logged).toContain(`${id}: ${path.slice(1)} boom`);
    }
    // An answer Node cannot write (a line break in a header) is the server's 500 too.
    const res = await fetch(`http://127.0.0.1:${port}/header`);
    expect(res.status).toBe(500);
    expect(logged.at(-1)).toMatch(new RegExp(`^${res.headers.get("x-amzn-requestid")}: Invalid character in header content`));
    expect((await fetch(`http://127.0.0.1:${port}/ok`)).status).toBe(200);
    expect(calls).toBe(4);
  });

  it("takes exactly the limits, and one more is refused", async () => {
    const port = await start(echo, { maxBodyBytes: 1000, maxHeaders: 20 });
    const headers = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: v\r\n`).join("");
    // Host and Content-Length count: 18 more make 20.
    expect((await rawExchange(port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n${headers(18)}\r\n`, { bodyBytes: 1000 })).status).toBe(200);
    expect((await rawExchange(port, `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n${headers(19)}\r\n`, { bodyBytes: 1000 })).status).toBe(431);
    expect((await rawExchange(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", { bodyBytes: 1001 })).status).toBe(413);
    expect((await rawExchange(port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", { bodyBytes: 1000, chunked: true })).status).toBe(200);
    expect((await rawExchange(port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", { bodyBytes: 1001, chunked: true })).status).toBe(413);
  });

  it("refuses a body too large before the client sends it, when the client waits for 100 Continue", async () => {
    let handled = 0;
    const port = await start(async (r) => (handled++, echo(r)), { maxBodyBytes: 1000 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/", headers: { expect: "100-continue", "content-length": 5000 } });
      req.on("continue", () => reject(new Error("the server asked for the body")));
      req.on("response", (res) => resolve(res.statusCode!));
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    expect(handled).toBe(0);
  });

  it("survives clients that vanish mid-body, and answers the next", async () => {
    let handled = 0;
    const port = await start(async (r) => (handled++, echo(r)), { maxBodyBytes: 1 << 20 });
    await Promise.all(
      Array.from({ length: 20 }, () => new Promise<void>((resolve) => {
        const s = connect(port, "127.0.0.1", () => {
          s.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + "a".repeat(5000));
          setTimeout(() => (s.resetAndDestroy(), resolve()), 20);
        });
      })),
    );
    expect(handled).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
  });
});
