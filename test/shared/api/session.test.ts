import { join } from "node:path";
import type { Server } from "node:http";
import { CreateAnomalyDetectorCommand, LookoutMetricsClient } from "@aws-sdk/client-lookoutmetrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, serve, tenantsFromConfig } from "../../../cli/serve.ts";
import { ConsoleSessions, DEFAULT_IDLE_MS, DEFAULT_LIFETIME_MS, type EdgeRequest } from "../../../shared/api/session.ts";
import { localAt, tempDir } from "../../builders.ts";

const OTHER = { id: "OTHERKEY", secret: "other-secret" };
/** The default tenant's secret: the public default is refused beside other tenants. */
const OWN_SECRET = "the-operator-own-secret";

/** A browser's view of the server: it keeps the cookie it was given and sends what a page would. */
class Browser {
  cookie: string | undefined;
  csrf: string | undefined;
  constructor(private readonly url: string) {}

  async signIn(AccessKeyId: string, SecretAccessKey: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(`${this.url}/console/session`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ AccessKeyId, SecretAccessKey }) });
    const set = res.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0];
    if (res.ok) this.csrf = ((await res.clone().json()) as { CsrfToken: string }).CsrfToken;
    return res;
  }

  async call(operation: string, body: unknown, options: { csrf?: string | null } = {}): Promise<{ status: number; body: { __type?: string; Message?: string } & Record<string, unknown> }> {
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    const res = await fetch(`${this.url}/console/api/${operation}`, { method: "POST", headers: { "content-type": "application/json", ...(this.cookie ? { cookie: this.cookie } : {}), ...(csrf ? { "x-vigil-csrf": csrf } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { __type?: string } & Record<string, unknown> };
  }

  async signOut(csrf = this.csrf): Promise<Response> {
    return fetch(`${this.url}/console/session`, { method: "DELETE", headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(csrf ? { "x-vigil-csrf": csrf } : {}) } });
  }

  async session(): Promise<Response> {
    return fetch(`${this.url}/console/session`, { headers: this.cookie ? { cookie: this.cookie } : {} });
  }
}

describe("console sessions through vigil serve", () => {
  let server: Server;
  let url: string;
  let skew = 0;
  let mine: string | undefined;
  let theirs: string | undefined;

  beforeAll(async () => {
    const dir = await tempDir();
    ({ server, url } = await serve({ port: 0, services: localAt(join(dir, "vigil"), () => Date.now() + skew), tenants: await tenantsFromConfig({ dataDir: join(dir, "vigil"), secretAccessKey: OWN_SECRET, tenants: [{ name: "other", accessKeyId: OTHER.id, secretAccessKey: OTHER.secret }] }) }));
    const client = (accessKeyId: string, secretAccessKey: string) => new LookoutMetricsClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
    const create = (c: LookoutMetricsClient, name: string) => c.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: name, AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
    mine = (await create(client(DEFAULT_ACCESS_KEY_ID, OWN_SECRET), "mine")).AnomalyDetectorArn;
    theirs = (await create(client(OTHER.id, OTHER.secret), "theirs")).AnomalyDetectorArn;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("signs in to an HttpOnly, SameSite=Strict cookie, and the session sees its own tenant only", async () => {
    const b = new Browser(url);
    const res = await b.signIn(DEFAULT_ACCESS_KEY_ID, OWN_SECRET);
    expect(res.status).toBe(200);
    const attributes = res.headers.get("set-cookie")!.split(";").map((a) => a.trim());
    expect(attributes[0]).toMatch(/^vigil_session=[A-Za-z0-9_-]{43}$/);
    expect(attributes.slice(1)).toEqual(["Path=/", `Max-Age=${DEFAULT_LIFETIME_MS / 1000}`, "HttpOnly", "SameSite=Strict"]);
    expect(await res.json()).toMatchObject({ Tenant: "default", AccessKeyId: DEFAULT_ACCESS_KEY_ID, CsrfToken: b.csrf });

    const listed = await b.call("ListAnomalyDetectors", {});
    expect(listed.status).toBe(200);
    expect((listed.body["AnomalyDetectorSummaryList"] as { AnomalyDetectorArn: string }[]).map((d) => d.AnomalyDetectorArn)).toEqual([mine]);
    const other = await b.call("DescribeAnomalyDetector", { AnomalyDetectorArn: theirs });
    expect(other).toMatchObject({ status: 400, body: { __type: "ResourceNotFoundException" } });
    expect((await b.session()).status).toBe(200);
  });

  it("refuses a bad key pair with one clear message, whichever half is wrong", async () => {
    for (const [id, secret] of [
      [DEFAULT_ACCESS_KEY_ID, "not-the-secret"],
      ["NOSUCHKEY", OWN_SECRET],
      [OTHER.id, OWN_SECRET],
    ] as const) {
      const b = new Browser(url);
      const res = await b.signIn(id, secret);
      expect(res.status).toBe(403);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.json()).toEqual({ __type: "AccessDeniedException", Message: "The access key ID and secret access key do not match any tenant's: check both and try again" });
    }
  });

  it("says which sign-in field is missing, and takes JSON from its own origin only", async () => {
    const empty = await fetch(`${url}/console/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessKeyId: "" }) });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { Fields: { Name: string }[] }).Fields.map((f) => f.Name)).toEqual(["AccessKeyId", "SecretAccessKey"]);
    const form = await fetch(`${url}/console/session`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `AccessKeyId=${DEFAULT_ACCESS_KEY_ID}&SecretAccessKey=${OWN_SECRET}` });
    expect(form.status).toBe(400);
    expect(form.headers.get("set-cookie")).toBeNull();
    const b = new Browser(url);
    const crossSite = await b.signIn(DEFAULT_ACCESS_KEY_ID, OWN_SECRET, { origin: "https://evil.example" });
    expect(crossSite.status).toBe(403);
    expect(b.cookie).toBeUndefined();
    const huge = await fetch(`${url}/console/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessKeyId: DEFAULT_ACCESS_KEY_ID, SecretAccessKey: "x".repeat(5000) }) });
    expect(huge.status).toBe(400);
  });

  it("refuses a write without the session's CSRF token", async () => {
    const b = new Browser(url);
    await b.signIn(DEFAULT_ACCESS_KEY_ID, OWN_SECRET);
    for (const csrf of [null, "wrong", `${b.csrf}x`]) {
      const res = await b.call("ListAnomalyDetectors", {}, { csrf });
      expect(res.status).toBe(403);
      expect(res.body.Message).toMatch(/x-vigil-csrf/);
    }
    // Another session's token is no better.
    const c = new Browser(url);
    await c.signIn(DEFAULT_ACCESS_KEY_ID, OWN_SECRET);
    expect((await b.call("ListAnomalyDetectors", {}, { csrf: c.csrf })).status).toBe(403);
    expect((await b.call("ListAnomalyDetectors", {})).status).toBe(200);
  });

  it("ends a session left idle, and any session at the end of its lifetime", async () => {
    const idle = new Browser(url);
    await idle.signIn(DEFAULT_ACCESS_KEY_ID, OWN_SECRET);
    const busy = new Browser(url);
    await busy.signIn(DEFAULT_ACCESS_KEY_ID, OWN_SECRET);
    try {
      // The busy one keeps working through the idle limit; the idle one does not.
      for (skew = 0; skew <= DEFAULT_IDLE_MS + 60_000; skew += DEFAULT_IDLE_MS / 2) expect((await busy.call("ListAnomalyDetectors", {})).status).toBe(200);
      const late = await idle.call("ListAnomalyDetectors", {});
      expect(late).toMatchObject({ status: 403, body: { __type: "AccessDeniedException", Message: "This session has expired: sign in again" } });
      expect((await idle.session()).status).toBe(403);
      for (; skew < DEFAULT_LIFETIME_MS - 60_000; skew += DEFAULT_IDLE_MS / 2) expect((await busy.call("ListAnomalyDetectors", {})).status).toBe(200);
      skew = DEFAULT_LIFETIME_MS + 1000;
      expect((await busy.call("ListAnomalyDetectors", {})).body.Message).toBe("This session has expired: sign in again");
    } finally {
      skew = 0;
    }
  });

  it("signs out: the cookie is cleared and the old one no longer works", async () => {
    const b = new Browser(url);
    await b.signIn(OTHER.id, OTHER.secret);
    expect((await b.signOut("wrong")).status).toBe(403);
    expect((await b.call("ListAnomalyDetectors", {})).status).toBe(200);
    const out = await b.signOut();
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toBe("vigil_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    expect(await b.call("ListAnomalyDetectors", {})).toMatchObject({ status: 403, body: { Message: "This session has ended: sign in again" } });
    // Signing out again, with the session gone, still clears the cookie.
    expect((await b.signOut(undefined)).status).toBe(200);
  });

  it("takes a session only on the console's API paths: the SDK's paths still need a signature, and the console's a session", async () => {
    const b = new Browser(url);
    await b.signIn(DEFAULT_ACCESS_KEY_ID, OWN_SECRET);
    const withCookie = await fetch(`${url}/ListAnomalyDetectors`, { method: "POST", headers: { "content-type": "application/json", cookie: b.cookie!, "x-vigil-csrf": b.csrf! }, body: "{}" });
    expect(withCookie.status).toBe(403);
    expect(((await withCookie.json()) as { Message: string }).Message).toMatch(/Signature Version 4/);
    const anonymous = await fetch(`${url}/console/api/ListAnomalyDetectors`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(anonymous.status).toBe(403);
    expect(((await anonymous.json()) as { Message: string }).Message).toBe("Not signed in: sign in with an access key pair");
    // Only an operation's name may follow the prefix.
    for (const path of ["/console/api/", "/console/api/List%41lerts", "/console/api/tags/x", "/console/api/ListAlerts/x"]) {
      const res = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", cookie: b.cookie!, "x-vigil-csrf": b.csrf! }, body: "{}" });
      expect(res.status, path).not.toBe(200);
    }
  });
});

describe("ConsoleSessions", () => {
  const credentials = new Map([[DEFAULT_ACCESS_KEY_ID, { secretAccessKey: DEFAULT_SECRET_ACCESS_KEY, tenant: "default" }]]);
  const request = (over: Partial<EdgeRequest>): EdgeRequest => ({ method: "POST", path: "/console/session", headers: { "content-type": "application/json", host: "console.example" }, body: JSON.stringify({ AccessKeyId: DEFAULT_ACCESS_KEY_ID, SecretAccessKey: DEFAULT_SECRET_ACCESS_KEY }), secure: false, requestId: "r", ...over });

  it("over TLS, names the cookie __Host- and marks it Secure, and takes no cookie without the prefix", () => {
    const sessions = new ConsoleSessions((k) => credentials.get(k), { now: () => 0 });
    const res = sessions.handle(request({ secure: true }))!;
    const cookie = res.headers["set-cookie"]!;
    expect(cookie).toMatch(/^__Host-vigil_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
    const value = cookie.split(";")[0]!.split("=")[1]!;
    const csrf = (JSON.parse(res.body) as { CsrfToken: string }).CsrfToken;
    const call = (cookieHeader: string) => sessions.principalOf(request({ path: "/ListAnomalyDetectors", secure: true, headers: { cookie: cookieHeader, "x-vigil-csrf": csrf } }));
    expect(call(`__Host-vigil_session=${value}`)).toEqual({ accessKeyId: DEFAULT_ACCESS_KEY_ID, tenant: "default" });
    expect(() => call(`vigil_session=${value}`)).toThrow("Not signed in");
  });

  it("keeps at most maxSessions, forgetting the oldest first", () => {
    const sessions = new ConsoleSessions((k) => credentials.get(k), { now: () => 0, maxSessions: 2 });
    const signIn = () => {
      const res = sessions.handle(request({}))!;
      return { cookie: res.headers["set-cookie"]!.split(";")[0]!, csrf: (JSON.parse(res.body) as { CsrfToken: string }).CsrfToken };
    };
    const [a, b, c] = [signIn(), signIn(), signIn()];
    const use = (s: { cookie: string; csrf: string }) => () => sessions.principalOf(request({ path: "/ListAlerts", headers: { cookie: s.cookie, "x-vigil-csrf": s.csrf } }));
    expect(use(a)).toThrow("This session has ended");
    expect(use(b)()).toBeDefined();
    expect(use(c)()).toBeDefined();
  });

  it("refuses a tenant's key, right secret or wrong, after too many wrong ones, until the window ends; other keys and a success are not held", () => {
    let now = 0;
    const all = new Map([...credentials, ["OTHERKEY", { secretAccessKey: "other-secret", tenant: "other" }]]);
    const sessions = new ConsoleSessions((k) => all.get(k), { now: () => now, maxFailedSignIns: 3, failedSignInWindowMs: 60_000 });
    const signIn = (AccessKeyId: string, SecretAccessKey: string) => {
      const res = sessions.handle(request({ body: JSON.stringify({ AccessKeyId, SecretAccessKey }) }))!;
      return { status: res.status, code: (JSON.parse(res.body) as { __type?: string }).__type, message: (JSON.parse(res.body) as { Message?: string }).Message };
    };
    // Two wrong, one right: the count starts again.
    expect([signIn(DEFAULT_ACCESS_KEY_ID, "guess-1").status, signIn(DEFAULT_ACCESS_KEY_ID, "guess-2").status, signIn(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY).status]).toEqual([403, 403, 200]);
    for (let i = 0; i < 3; i++) expect(signIn(DEFAULT_ACCESS_KEY_ID, `guess-${i}`)).toMatchObject({ status: 403, code: "AccessDeniedException" });
    now = 30_000;
    expect(signIn(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY)).toEqual({ status: 429, code: "TooManyRequestsException", message: `Too many failed sign-ins with access key ${DEFAULT_ACCESS_KEY_ID}: try again after 1970-01-01T00:01:00.000Z` });
    expect(signIn("OTHERKEY", "other-secret").status).toBe(200);
    // Keys of no tenant are never held (nothing to guess), nor kept.
    for (let i = 0; i < 5; i++) expect(signIn(`MADEUP${i % 2}`, "x").status).toBe(403);
    now = 60_000;
    expect(signIn(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY).status).toBe(200);
  });

  it("holds back the client that guessed wrong, not the tenant's sign-in from another client; and keeps a bounded count of them", () => {
    const sessions = new ConsoleSessions((k) => credentials.get(k), { now: () => 0, maxFailedSignIns: 3, failedSignInWindowMs: 60_000 });
    const signIn = (client: string, SecretAccessKey: string) => sessions.handle(request({ client, body: JSON.stringify({ AccessKeyId: DEFAULT_ACCESS_KEY_ID, SecretAccessKey }) }))!.status;
    // A stranger who learned the key id guesses from its address, and is held...
    expect([1, 2, 3].map((i) => signIn("203.0.113.9", `guess-${i}`))).toEqual([403, 403, 403]);
    expect(signIn("203.0.113.9", DEFAULT_SECRET_ACCESS_KEY)).toBe(429);
    // ...while the tenant signs in from its own.
    expect(signIn("198.51.100.7", DEFAULT_SECRET_ACCESS_KEY)).toBe(200);
    // Guesses from 20,000 addresses leave the count bounded, and the first address's hold let go with the oldest.
    for (let i = 0; i < 20_000; i++) signIn(`2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`, "guess");
    expect(signIn("203.0.113.9", DEFAULT_SECRET_ACCESS_KEY)).toBe(200);
  });

  it("answers only its own path", () => {
    const sessions = new ConsoleSessions((k) => credentials.get(k), { now: () => 0 });
    expect(sessions.handle(request({ path: "/console/sessions" }))).toBeUndefined();
    expect(sessions.handle(request({ method: "PUT" }))!.status).toBe(405);
  });
});
