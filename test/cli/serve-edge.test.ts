import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { request as httpRequest, type Server } from "node:http";
import { connect, createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, listen, serve, shut, STARTING_ANSWERS_KEPT, tenantsFromConfig } from "../../cli/serve.ts";
import { startServing } from "../../cli/service.ts";
import type { HttpLimits } from "../../shared/api/http-server.ts";
import { loadServeConfig, ServeConfig } from "../../shared/runtime/service/config.ts";
import type { AnsweredRequest } from "../../shared/runtime/service/index.ts";
import { localAt, tempDir } from "../builders.ts";
import { quietObserver } from "../clock.ts";

/**
 * `vigil serve` answers only requests whose Host names it: a page whose domain an attacker
 * rebinds to 127.0.0.1 in DNS makes the browser send that domain as the Host, signing with
 * the public default key or signing in to the console with it.
 */
const stops: (() => Promise<unknown>)[] = [];
const ipv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = createNetServer().once("error", () => resolve(false));
  probe.listen(0, "::1", () => probe.close(() => resolve(true)));
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function started(options: { host?: string; secretAccessKey?: string; limits?: Partial<HttpLimits> } = {}): Promise<{ port: number; url: string }> {
  const dir = await tempDir();
  const tenants = await tenantsFromConfig({ dataDir: join(dir, "vigil"), ...(options.secretAccessKey ? { secretAccessKey: options.secretAccessKey } : {}) });
  const { server, url } = await serve({ port: 0, ...(options.host ? { host: options.host } : {}), ...(options.limits ? { limits: options.limits } : {}), services: localAt(join(dir, "vigil"), Date.now), tenants });
  stops.push(() => closed(server));
  return { port: (server.address() as { port: number }).port, url };
}
const closed = (server: Server) => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections()));

/** A request to 127.0.0.1:`port` that says it is for `host`, signed for that host with the default key when `signed`. */
async function send(port: number, host: string, method: string, path: string, body = "", options: { signed?: boolean; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; cookie: string[] | undefined }> {
  const signer = new SignatureV4({ credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, region: "us-east-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
  const base = { host, "content-type": "application/json", ...options.headers };
  const headers = options.signed ? (await signer.sign(new HttpRequest({ method, protocol: "http:", hostname: host.split(":")[0]!, port, path, headers: base, body }))).headers : base;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, agent: false, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body: text, cookie: res.headers["set-cookie"] }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const DETECTOR = JSON.stringify({ AnomalyDetectorName: "pwned", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
const SIGN_IN = JSON.stringify({ AccessKeyId: DEFAULT_ACCESS_KEY_ID, SecretAccessKey: DEFAULT_SECRET_ACCESS_KEY });

describe("vigil serve's Host check", () => {
  it("refuses a signed call and a console sign-in for a rebound domain (421), and answers them for its own names", async () => {
    const { port } = await started();
    const evil = `rebind.attacker.example:${port}`;
    const refused = await send(port, evil, "POST", "/CreateAnomalyDetector", DETECTOR, { signed: true });
    expect(refused.status).toBe(421);
    expect(JSON.parse(refused.body)).toMatchObject({ __type: "ValidationException" });
    const signIn = await send(port, evil, "POST", "/console/session", SIGN_IN, { headers: { origin: `http://${evil}` } });
    expect([signIn.status, signIn.cookie]).toEqual([421, undefined]);
    // Nothing was made; its own names are answered.
    expect(JSON.parse((await send(port, `127.0.0.1:${port}`, "POST", "/ListAnomalyDetectors", "{}", { signed: true })).body)).toEqual({ AnomalyDetectorSummaryList: [] });
    expect((await send(port, `localhost:${port}`, "POST", "/CreateAnomalyDetector", DETECTOR, { signed: true })).status).toBe(200);
    expect((await send(port, `localhost:${port}`, "POST", "/console/session", SIGN_IN, { headers: { origin: `http://localhost:${port}` } })).status).toBe(200);
  });

  it("answers its public URL's host and the allowed hosts (allowedHosts, VIGIL_ALLOWED_HOSTS), and no other name", async () => {
    const file = join(await tempDir(), "vigil.config.json");
    await writeFile(file, JSON.stringify({ dataDir: join(await tempDir(), "data"), port: 0, publicUrl: "https://vigil.example.com/base" }));
    const config = loadServeConfig({ file, env: { VIGIL_ALLOWED_HOSTS: "vigil.lan, 10.0.0.7", VIGIL_SECRET_ACCESS_KEY: "an operator's own long secret" } });
    expect(config.allowedHosts).toEqual(["vigil.lan", "10.0.0.7"]);
    const serving = await startServing(config, { observer: quietObserver(), watch: false });
    stops.push(() => serving.stop());
    const port = Number(new URL(serving.url).port);
    const statuses = async (hosts: string[]) => Promise.all(hosts.map(async (h) => (await send(port, h, "GET", "/health")).status));
    expect(await statuses(["vigil.example.com", "vigil.lan:8087", "10.0.0.7", `localhost:${port}`])).toEqual([200, 200, 200, 200]);
    expect(await statuses(["vigil.example.com.attacker.example", "other.lan", "10.0.0.8"])).toEqual([421, 421, 421]);
    expect(() => ServeConfig.parse({ allowedHosts: ["vigil.lan:8087"] })).toThrow();
  });
});

describe("vigil serve's own address", () => {
  it("gives its services the address it bound, also a port the system chose (port 0): the links in alert messages name it", async () => {
    const serving = await startServing(ServeConfig.parse({ dataDir: join(await tempDir(), "data"), port: 0 }), { observer: quietObserver(), watch: false });
    stops.push(() => serving.stop());
    expect(new URL(serving.url).port).not.toBe("0");
    expect(serving.service.services.alertSettings.publicUrl).toBe(serving.url);
  });

  it("answers 503 ServiceUnavailableException while bound and its services still opening, then answers them", async () => {
    const dir = await tempDir();
    const listening = await listen({ port: 0, tenants: await tenantsFromConfig({ dataDir: join(dir, "vigil") }), limits: { maxBodyBytes: 1000 } });
    stops.push(() => new Promise((resolve) => listening.server.close(resolve)));
    const port = Number(new URL(listening.url).port);
    const host = `127.0.0.1:${port}`;
    // Bounded as ever while starting: a body past the limit is refused before any answer is made.
    expect((await send(port, host, "POST", "/ListAnomalyDetectors", "x".repeat(1001))).status).toBe(413);
    const early = await send(port, host, "POST", "/ListAnomalyDetectors", "{}", { signed: true });
    expect([early.status, JSON.parse(early.body).__type]).toEqual([503, "ServiceUnavailableException"]);
    // The process is up, and not ready.
    expect((await send(port, host, "GET", "/health")).status).toBe(200);
    const ready = await send(port, host, "GET", "/ready");
    expect([ready.status, JSON.parse(ready.body).status]).toEqual([503, "not ready"]);
    // What was answered meanwhile is told to the service's log and figures once it attaches, then what it answers.
    const told: AnsweredRequest[] = [];
    listening.attach({ services: localAt(join(dir, "vigil"), Date.now), onAnswer: (entry) => told.push(entry) });
    expect(told.map((e) => [e.method, e.path, e.status])).toEqual([["POST", "/ListAnomalyDetectors", 503], ["GET", "/health", 200], ["GET", "/ready", 503]]);
    expect(new Set(told.map((e) => e.requestId)).size).toBe(3);
    expect(JSON.parse((await send(port, host, "POST", "/ListAnomalyDetectors", "{}", { signed: true })).body)).toEqual({ AnomalyDetectorSummaryList: [] });
    expect(told.map((e) => e.status)).toEqual([503, 200, 503, 200]);
  });

  it("keeps at most STARTING_ANSWERS_KEPT of the requests it answers while starting, to tell once attached", async () => {
    const listening = await listen({ port: 0, tenants: await tenantsFromConfig({ dataDir: join(await tempDir(), "vigil") }) });
    stops.push(() => new Promise((resolve) => listening.server.close(resolve)));
    const port = Number(new URL(listening.url).port);
    for (let sent = 0; sent < STARTING_ANSWERS_KEPT + 5; sent += 100) await Promise.all(Array.from({ length: 100 }, () => send(port, `127.0.0.1:${port}`, "GET", "/health")));
    const told: AnsweredRequest[] = [];
    listening.attach({ services: localAt(join(await tempDir(), "vigil"), Date.now), onAnswer: (entry) => told.push(entry) });
    expect(told).toHaveLength(STARTING_ANSWERS_KEPT);
  });

  it("closes a server that will not serve at once, a client halfway through its headers too (shut)", async () => {
    const listening = await listen({ port: 0, tenants: await tenantsFromConfig({ dataDir: join(await tempDir(), "vigil") }) });
    const port = Number(new URL(listening.url).port);
    const slow = connect(port, "127.0.0.1");
    slow.on("error", () => {});
    stops.push(async () => slow.destroy());
    await new Promise<void>((r) => slow.write("POST /ListAnomalyDetectors HTTP/1.1\r\nHost: 127.0.0.1\r\n", () => r()));
    await new Promise((r) => setTimeout(r, 50));
    await shut(listening.server);
    expect(listening.server.listening).toBe(false);
  });

  // A machine without IPv6 loopback (some containers) cannot listen there.
  it.skipIf(!ipv6Loopback)("gives an IPv6 address bracketed in its URL, as links need it", async () => {
    const serving = await startServing(ServeConfig.parse({ dataDir: join(await tempDir(), "data"), host: "::1", port: 0 }), { observer: quietObserver(), watch: false });
    stops.push(() => serving.stop());
    expect(serving.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect(new URL(serving.service.services.alertSettings.publicUrl).hostname).toBe("[::1]");
    expect((await fetch(`${serving.url}/health`)).status).toBe(200);
  });

  it("says a port is in use, and touches no data directory, when another holds it", async () => {
    const first = await startServing(ServeConfig.parse({ dataDir: join(await tempDir(), "data"), port: 0 }), { observer: quietObserver(), watch: false });
    stops.push(() => first.stop());
    const port = Number(new URL(first.url).port);
    const dataDir = join(await tempDir(), "other");
    await expect(startServing(ServeConfig.parse({ dataDir, port }), { observer: quietObserver(), watch: false })).rejects.toMatchObject({ code: "ValidationException", message: expect.stringMatching(new RegExp(`^Port ${port} on 127.0.0.1 is in use`)) });
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe("vigil serve beyond this machine", () => {
  it("refuses to listen on a public address with the public default secret, and starts with one of the operator's", async () => {
    await expect(started({ host: "0.0.0.0" })).rejects.toThrow(/public default secret/);
    // A key ID of one's own with the default secret is as open.
    const dir = await tempDir();
    const ownId = await tenantsFromConfig({ dataDir: join(dir, "vigil"), accessKeyId: "MYOWNKEY01" });
    await expect(serve({ port: 0, host: "0.0.0.0", services: localAt(join(dir, "vigil"), Date.now), tenants: ownId })).rejects.toThrow(/public default secret/);
    const { port } = await started({ host: "0.0.0.0", secretAccessKey: "an operator's own long secret" });
    // Listening on every address, it answers any IP address, and no name but the loopback ones.
    const statuses = async (hosts: string[]) => Promise.all(hosts.map(async (h) => (await send(port, h, "GET", "/health")).status));
    expect(await statuses([`127.0.0.1:${port}`, `localhost:${port}`, `192.168.1.20:${port}`, `rebind.attacker.example:${port}`])).toEqual([200, 200, 200, 421]);
  });

  it("refuses the public default secret on loopback too when it answers a public URL's host or an allowed host: a reverse proxy brings their callers", async () => {
    // Behind a proxy that keeps the Host (as a signature needs), anyone who reached the public name signed as the default tenant with the README's key.
    const dataDir = join(await tempDir(), "data");
    for (const named of [{ publicUrl: "https://vigil.example.com" }, { allowedHosts: ["vigil.lan"] }, { allowedHosts: ["10.0.0.7"] }]) {
      await expect(startServing(ServeConfig.parse({ dataDir, port: 0, ...named }), { observer: quietObserver(), watch: false })).rejects.toThrow(/would answer .* with the public default secret/);
    }
    expect(existsSync(dataDir)).toBe(false);
    // Loopback names are this machine's; with an operator's own secret any name is answered.
    const local = await startServing(ServeConfig.parse({ dataDir, port: 0, allowedHosts: ["localhost", "[::1]"] }), { observer: quietObserver(), watch: false });
    stops.push(() => local.stop());
    const own = await startServing(ServeConfig.parse({ dataDir: join(await tempDir(), "data"), port: 0, publicUrl: "https://vigil.example.com", secretAccessKey: "an operator's own long secret" }), { observer: quietObserver(), watch: false });
    stops.push(() => own.stop());
    expect((await send(Number(new URL(own.url).port), "vigil.example.com", "POST", "/ListAnomalyDetectors", "{}", { signed: true })).status).toBe(403);
  });

  it("refuses the public default secret on loopback too once other tenants are configured: any of them could sign as the default tenant", async () => {
    // Another tenant, or anyone on this machine, signed with the README's key and acted as the operator: its files, its alerts to private addresses.
    const dataDir = join(await tempDir(), "data");
    const teamA = [{ name: "team-a", accessKeyId: "TEAMAKEY01", secretAccessKey: "a-long-enough-secret" }];
    const refused = { code: "ValidationException", message: expect.stringMatching(/other tenants .* public default secret .* set secretAccessKey \(VIGIL_SECRET_ACCESS_KEY\)/) };
    await expect(startServing(ServeConfig.parse({ dataDir, port: 0, tenants: teamA }), { observer: quietObserver(), watch: false })).rejects.toMatchObject(refused);
    await expect(startServing(ServeConfig.parse({ dataDir, port: 0, tenants: teamA, accessKeyId: "MYOWNKEY01" }), { observer: quietObserver(), watch: false })).rejects.toMatchObject(refused);
    await expect(startServing(loadServeConfig({ env: { VIGIL_DATA_DIR: dataDir, VIGIL_PORT: "0", VIGIL_TENANTS: "team-a:TEAMAKEY01:a-long-enough-secret" } }), { observer: quietObserver(), watch: false })).rejects.toMatchObject(refused);
    expect(existsSync(dataDir)).toBe(false);
    // With the operator's own secret it starts, and the README's key is refused.
    const own = await startServing(ServeConfig.parse({ dataDir, port: 0, tenants: teamA, secretAccessKey: "an operator's own long secret" }), { observer: quietObserver(), watch: false });
    stops.push(() => own.stop());
    const port = Number(new URL(own.url).port);
    expect((await send(port, `127.0.0.1:${port}`, "POST", "/ListAnomalyDetectors", "{}", { signed: true })).status).toBe(403);
  });
});

describe("vigil serve's connections per client", () => {
  it("holds the settings' number of connections from one client (maxConnectionsPerClient), and still lets others in", async () => {
    const file = join(await tempDir(), "vigil.config.json");
    await writeFile(file, JSON.stringify({ dataDir: join(await tempDir(), "data"), port: 0 }));
    const serving = await startServing(loadServeConfig({ file, env: { VIGIL_MAX_CONNECTIONS_PER_CLIENT: "1" } }), { observer: quietObserver(), watch: false });
    stops.push(() => serving.stop());
    const port = Number(new URL(serving.url).port);
    const held = connect(port, "127.0.0.1");
    held.on("error", () => {});
    stops.push(async () => held.destroy());
    await new Promise<void>((r) => held.write(`POST /ListAnomalyDetectors HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{`, () => r()));
    const health = (localAddress: string) =>
      new Promise<number>((resolve) => {
        const req = httpRequest({ host: "127.0.0.1", port, localAddress, path: "/health", agent: false }, (res) => (res.resume(), resolve(res.statusCode!)));
        req.on("error", () => resolve(0));
        req.end();
      });
    expect([0, 429]).toContain(await health("127.0.0.1"));
    expect(await health("127.0.0.2")).toBe(200);
  });
});

describe("vigil serve's deadline for a body", () => {
  it("cuts off a body sent without credentials at the shorter deadline, and waits for one signed", async () => {
    const { port } = await started({ limits: { anonymousBodyTimeoutMs: 200 } });
    const host = `127.0.0.1:${port}`;
    const signer = new SignatureV4({ credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, region: "us-east-1", service: "lookoutmetrics", sha256: Hash.bind(null, "sha256") });
    const signed = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: "127.0.0.1", port, path: "/ListAnomalyDetectors", headers: { host, "content-type": "application/json" }, body: "{}" }));
    const slow = (headers: Record<string, string>, path: string) => {
      const seen = { text: "", closed: false, socket: connect(port, "127.0.0.1") };
      seen.socket.on("data", (c: Buffer) => (seen.text += c.toString()));
      seen.socket.on("error", () => {});
      seen.socket.on("close", () => (seen.closed = true));
      const head = Object.entries({ ...headers, host, "content-length": "2" }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      seen.socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n{`);
      stops.push(async () => seen.socket.destroy());
      return seen;
    };
    const withSignature = slow(signed.headers, "/ListAnomalyDetectors");
    const anonymous = slow({ "content-type": "application/json" }, "/console/session");
    await vi.waitFor(() => expect(anonymous.closed).toBe(true), { timeout: 5_000 });
    expect(anonymous.text).toMatch(/^HTTP\/1\.1 408 [^]*"__type":"RequestTimeoutException"/);
    expect([withSignature.text, withSignature.closed]).toEqual(["", false]);
    withSignature.socket.write("}");
    await vi.waitFor(() => expect(withSignature.text).toMatch(/^HTTP\/1\.1 200 /), { timeout: 5_000 });
  });
});
