import { mkdir, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, serve, tenantsFromConfig } from "../../cli/serve.ts";
import { BOOT_MARK, consoleFiles, isConsolePath } from "../../console/server.ts";
import { localAt, tempDir } from "../builders.ts";

describe("consoleFiles", () => {
  async function built(): Promise<string> {
    const dir = await tempDir();
    await mkdir(join(dir, "assets"), { recursive: true });
    await writeFile(join(dir, "index.html"), "<!doctype html><title>Vigil</title>");
    await writeFile(join(dir, "assets", "main-ABC.js"), "console.log(1)");
    await writeFile(join(dir, "assets", "main-ABC.css"), "body{}");
    await writeFile(join(dir, "assets", "main-ABC.js.map"), "{}");
    await writeFile(join(dir, "secret.txt"), "not for the web");
    return dir;
  }

  it("answers every console page with index.html under a strict content security policy", async () => {
    const files = consoleFiles(await built());
    for (const path of ["/console", "/console/", "/console/incident", "/console/detector/x"]) {
      const res = await files({ method: "GET", path });
      expect(res.status).toBe(200);
      expect(res.body).toBe("<!doctype html><title>Vigil</title>");
      expect(res.headers).toMatchObject({ "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-frame-options": "DENY", "x-content-type-options": "nosniff" });
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
      expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    }
  });

  it("serves the page with its boot data: the sign-in configuration and the request's session, escaped so no value closes the element", async () => {
    const dir = await built();
    await writeFile(join(dir, "index.html"), `<head>${BOOT_MARK}<script type="module" src="/console/assets/main-ABC.js"></script></head>`);
    const hostile = { Tenant: "</script><script>alert(1)</script>", AccessKeyId: "$&$'", CsrfToken: "t0k3n", ExpiresAt: 1 };
    const asked: unknown[] = [];
    const files = consoleFiles(dir, { SignIn: "keys" }, (request) => (asked.push(request.headers?.["cookie"]), request.headers?.["cookie"] === "vigil_session=x" ? hostile : undefined));
    const page = await files({ method: "GET", path: "/console/incident", headers: { cookie: "vigil_session=x" } });
    const element = /<script type="application\/json" id="vigil-boot">(.*?)<\/script>/.exec(page.body);
    expect(element, page.body).not.toBeNull();
    expect(page.body.match(/<script/g)).toHaveLength(2);
    expect(JSON.parse(element![1]!)).toEqual({ Config: { SignIn: "keys" }, Session: hostile });
    expect(page.body).toMatch(/<\/script><script type="module"/);
    const signedOut = await files({ method: "GET", path: "/console/", headers: {} });
    expect(JSON.parse(/id="vigil-boot">(.*?)<\/script>/.exec(signedOut.body)![1]!)).toEqual({ Config: { SignIn: "keys" } });
    expect(asked).toEqual(["vigil_session=x", undefined]);
    // Assets and the configuration never ask for the session.
    await files({ method: "GET", path: "/console/assets/main-ABC.js", headers: { cookie: "vigil_session=x" } });
    expect(asked).toHaveLength(2);
  });

  it("serves the built script and stylesheet for good, and nothing else", async () => {
    const files = consoleFiles(await built());
    expect(await files({ method: "GET", path: "/console/assets/main-ABC.js" })).toMatchObject({ status: 200, body: "console.log(1)", headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=31536000, immutable" } });
    expect((await files({ method: "GET", path: "/console/assets/main-ABC.css" })).headers["content-type"]).toBe("text/css; charset=utf-8");
    for (const path of ["/console/assets/main-ABC.js.map", "/console/assets/../secret.txt", "/console/assets/..%2Fsecret.txt", "/console/assets/", "/console/assets/constructor", "/console/assets/index.html"]) {
      expect((await files({ method: "GET", path })).status, path).toBe(404);
    }
    expect((await files({ method: "POST", path: "/console/" })).status).toBe(405);
  });

  it("says the console is not built when it is not", async () => {
    const files = consoleFiles(join(await tempDir(), "nothing"));
    expect(await files({ method: "GET", path: "/console/" })).toMatchObject({ status: 503, body: "The console is not built: run `npm run build`\n" });
  });

  it("claims /console and below only", () => {
    expect(["/console", "/console/", "/console/assets/x.js"].map(isConsolePath)).toEqual([true, true, true]);
    expect(["/consoles", "/ListAlerts", "/", "/health"].map(isConsolePath)).toEqual([false, false, false, false]);
  });
});

describe("vigil serve at /console", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const dataDir = join(await tempDir(), "vigil");
    ({ server, url } = await serve({ port: 0, services: localAt(dataDir, Date.now), tenants: await tenantsFromConfig({ dataDir }) }));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("serves the page the build wrote, whose scripts and stylesheet load from the same server", async () => {
    const page = await fetch(`${url}/console/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const links = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    // The stylesheet, the early script and the console (and any chunk they share).
    expect(links.filter((l) => l.endsWith(".css"))).toHaveLength(1);
    expect(links.filter((l) => /\/(start|main)-[A-Z0-9]+\.js$/.test(l))).toHaveLength(2);
    for (const link of links) {
      const res = await fetch(`${url}${link}`);
      expect(res.status, link).toBe(200);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("serves the page with the session its cookie names, as GET /console/session tells it, and never lets it be kept", async () => {
    const bootOf = async (headers: Record<string, string>) => {
      const res = await fetch(`${url}/console/incident?group=x`, { headers });
      expect(res.headers.get("cache-control")).toBe("no-store");
      return JSON.parse(/id="vigil-boot">(.*?)<\/script>/.exec(await res.text())![1]!) as { Config: unknown; Session?: { CsrfToken: string; Tenant: string } };
    };
    expect(await bootOf({})).toEqual({ Config: { SignIn: "keys" } });
    const signIn = await fetch(`${url}/console/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessKeyId: DEFAULT_ACCESS_KEY_ID, SecretAccessKey: DEFAULT_SECRET_ACCESS_KEY }) });
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const boot = await bootOf({ cookie });
    expect(boot.Session).toMatchObject({ Tenant: "default", AccessKeyId: DEFAULT_ACCESS_KEY_ID });
    const told = (await (await fetch(`${url}/console/session`, { headers: { cookie } })).json()) as { CsrfToken: string };
    expect(boot.Session!.CsrfToken).toBe(told.CsrfToken);
    expect((await bootOf({ cookie: "vigil_session=made-up" })).Session).toBeUndefined();
  });
});
