import { request as httpRequest, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clientOf, createBoundedServer, hostsAnswered, isLoopback, type Handler, type HttpLimits } from "../../../shared/api/http-server.ts";
import { rawExchange } from "../../security/wire.ts";

let server: Server | undefined;
/** The raw connections a test opened (open), ended with it, passing or not. */
const opened: Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.destroy();
  return new Promise<void>((r) => (server ? (server.close(() => r()), server.closeAllConnections()) : r()));
});

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

/** A raw connection from `localAddress` that sends `head` and then waits: what the server answers, and whether it closed. */
function open(port: number, head: string, localAddress = "127.0.0.1") {
  const seen = { text: "", closed: false, socket: connect({ port, host: "127.0.0.1", localAddress }) };
  seen.socket.on("data", (c: Buffer) => (seen.text += c.toString("latin1")));
  seen.socket.on("error", () => {});
  seen.socket.on("close", () => (seen.closed = true));
  seen.socket.write(head);
  opened.push(seen.socket);
  return seen;
}
const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

/** GET / from `localAddress`: its status, or 0 when the connection closed without one. */
const getFrom = (port: number, localAddress: string) =>
  new Promise<number>((resolve) => {
    const req = httpRequest({ host: "127.0.0.1", port, localAddress, path: "/", agent: false }, (res) => (res.resume(), resolve(res.statusCode!)));
    req.on("error", () => resolve(0));
    req.end();
  });

describe("createBoundedServer's Host check", () => {
  it("answers only the Host names it is given, refusing the others with 421 before the body is read or the handler runs", async () => {
    let handled = 0;
    server = createBoundedServer(async (r) => (handled++, echo(r)), { answersHost: hostsAnswered("127.0.0.1", ["vigil.example.com"]) });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "[::1]", "LOCALHOST", "vigil.example.com", "vigil.example.com:443"]) expect((await rawExchange(port, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).status, host).toBe(200);
    expect(handled).toBe(6);
    for (const head of [`Host: rebind.attacker.example:${port}`, "Host: localhost.attacker.example", "Host: 10.0.0.1", "Host: user@localhost", "Host: localhost/x"]) {
      // The body is declared and never sent: the refusal comes without waiting for it.
      const answer = await rawExchange(port, `POST /CreateAnomalyDetector HTTP/1.1\r\n${head}\r\nContent-Length: 1000\r\n\r\n`);
      expect(answer.status, head).toBe(421);
      expect(answer.closed).toBe(true);
      expect(JSON.parse(answer.text.slice(answer.text.indexOf("\r\n\r\n") + 4))).toMatchObject({ __type: "ValidationException" });
    }
    // HTTP/1.0 may leave Host out: nothing names this server then.
    expect((await rawExchange(port, "GET / HTTP/1.0\r\n\r\n")).status).toBe(421);
    expect(handled).toBe(6);
  });

  it("refuses a foreign Host before asking a client that waits for 100 Continue for its body", async () => {
    server = createBoundedServer(echo, { answersHost: hostsAnswered("127.0.0.1") });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/", agent: false, headers: { host: "rebind.attacker.example", expect: "100-continue", "content-length": 10 } });
      req.on("continue", () => reject(new Error("the server asked for the body")));
      req.on("response", (res) => resolve(res.statusCode!));
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(status).toBe(421);
  });

  it("knows the names of each address: loopback ones on loopback, any IP address (never a name) on every address, the address itself otherwise", () => {
    const loopback = hostsAnswered("localhost");
    expect(["localhost:1", "127.0.0.1", "127.1", "[::1]:8087", "localhost.", "LOCALHOST.:8087"].map(loopback)).toEqual([true, true, true, true, true, true]);
    expect([undefined, "", "10.0.0.1", "evil.example", "localhost..", "127.0.0.1.nip.io"].map(loopback)).toEqual([false, false, false, false, false, false]);
    // A name is the same fully qualified (with the root's dot) or not, on either side.
    const lan = hostsAnswered("127.0.0.1", ["vigil.lan."]);
    expect(["vigil.lan", "vigil.lan.", "Vigil.LAN:8087"].map(lan)).toEqual([true, true, true]);
    const every = hostsAnswered("0.0.0.0", ["vigil.internal"]);
    expect(["localhost", "10.1.2.3:8087", "[fe80::1]", "vigil.internal:8087"].map(every)).toEqual([true, true, true, true]);
    expect(["evil.example", "vigil.internal.evil.example"].map(every)).toEqual([false, false]);
    const one = hostsAnswered("192.168.1.5");
    expect(["192.168.1.5:8087", "localhost", "127.0.0.1", "192.168.1.6"].map(one)).toEqual([true, false, false, false]);
    expect(hostsAnswered("::1")("[::1]:8087")).toBe(true);
    expect(["127.0.0.1", "127.3.4.5", "::1", "[::1]", "::ffff:127.0.0.1", "localhost"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "::", "10.0.0.1", "vigil.example.com"].some(isLoopback)).toBe(false);
  });
});

describe("createBoundedServer's connection slots", () => {
  it("caps the connections of one client, so that another still gets in while it holds its share", async () => {
    const port = await start(echo, { maxConnections: 8, maxConnectionsPerClient: 2 });
    // Eight slow uploads from one address: declared, one byte sent, the rest never.
    const hogs = Array.from({ length: 8 }, () => open(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"));
    await vi.waitFor(() => expect(hogs.filter((h) => h.closed)).toHaveLength(6), { timeout: 5_000 });
    // Those turned away were answered 429 when the answer could be read before the close.
    expect(hogs.filter((h) => h.closed).map((h) => statusOf(h.text)).every((s) => s === 429 || s === 0)).toBe(true);
    expect(await getFrom(port, "127.0.0.2")).toBe(200);
    // The same client is turned away while its two are held, and let in once they close.
    expect([0, 429]).toContain(await getFrom(port, "127.0.0.1"));
    expect(hogs.filter((h) => !h.closed)).toHaveLength(2);
    for (const h of hogs) h.socket.destroy();
    await vi.waitFor(async () => expect(await getFrom(port, "127.0.0.1")).toBe(200), { timeout: 5_000 });
  });

  it("counts an IPv6 client by its /64, and an IPv4 one by its address", () => {
    expect(clientOf("2001:db8:1:2::1")).toBe(clientOf("2001:db8:1:2:ffff:1:2:3"));
    expect(clientOf("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(clientOf("2001:db8:1:3::1")).not.toBe(clientOf("2001:db8:1:2::1"));
    expect(clientOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect([clientOf("10.0.0.1"), clientOf("::ffff:10.0.0.1")]).toEqual(["10.0.0.1", "::ffff:10.0.0.1"]);
  });

  it("gives a body sent without credentials a shorter time to arrive than one sent with them", async () => {
    const port = await new Promise<number>((resolve) => {
      server = createBoundedServer(echo, { limits: { anonymousBodyTimeoutMs: 200 }, vouched: (headers) => headers["authorization"] === "Bearer ok" });
      server.listen(0, "127.0.0.1", () => resolve((server!.address() as { port: number }).port));
    });
    const head = (auth: string) => `POST / HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\n\r\n{`;
    const vouched = open(port, head("Authorization: Bearer ok\r\n"));
    const anonymous = open(port, head(""));
    await vi.waitFor(() => expect(anonymous.closed).toBe(true), { timeout: 5_000 });
    expect(statusOf(anonymous.text)).toBe(408);
    expect(anonymous.text).toContain('"__type":"RequestTimeoutException"');
    // The one with credentials was not cut off with it: its body, finished, is answered.
    expect([vouched.text, vouched.closed]).toEqual(["", false]);
    vouched.socket.write("}");
    await vi.waitFor(() => expect(statusOf(vouched.text)).toBe(200), { timeout: 5_000 });
  });

  it("takes in no more than maxSlowBodies slow bodies at once, credentials or not (a header can claim them), from any number of addresses", async () => {
    const port = await new Promise<number>((resolve) => {
      server = createBoundedServer(echo, { limits: { anonymousBodyTimeoutMs: 200, maxSlowBodies: 2 }, vouched: () => true });
      server.listen(0, "127.0.0.1", () => resolve((server!.address() as { port: number }).port));
    });
    const head = `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: forged\r\nContent-Length: 2\r\n\r\n{`;
    // Four slow uploads from four addresses: two go on, two are refused once they are slow.
    const slow = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"].map((address) => open(port, head, address));
    await vi.waitFor(() => expect(slow.filter((s) => s.closed)).toHaveLength(2), { timeout: 5_000 });
    expect(slow.filter((s) => s.closed).map((s) => statusOf(s.text))).toEqual([408, 408]);
    expect(slow.find((s) => s.closed)!.text).toContain("2 slow uploads are under way already");
    // Those that went on are answered once their bodies end; then their places are free again.
    for (const s of slow.filter((s) => !s.closed)) s.socket.write("}");
    await vi.waitFor(() => expect(slow.filter((s) => statusOf(s.text) === 200)).toHaveLength(2), { timeout: 5_000 });
    const again = ["127.0.0.6", "127.0.0.7"].map((address) => open(port, head, address));
    await new Promise((r) => setTimeout(r, 400));
    expect(again.map((s) => s.closed)).toEqual([false, false]);
    for (const s of again) s.socket.write("}");
    await vi.waitFor(() => expect(again.map((s) => statusOf(s.text))).toEqual([200, 200]), { timeout: 5_000 });
  });
});
