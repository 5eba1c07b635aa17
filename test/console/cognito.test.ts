import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { globalAgent } from "node:https";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDetector, OPERATOR } from "../../shared/app/index.ts";
import { localAt, tempDir } from "../builders.ts";
import { startCognito, type CognitoPool } from "../fakes/cognito-server.ts";
import { startHttpApi, type HttpApiHandler } from "../fakes/http-api.ts";
import { inLocalMode } from "../functions/local-mode.ts";

/**
 * The console as packaged for AWS: the api function behind an HTTP API, signing in through a
 * Cognito user pool's managed login (authorization code with PKCE) on loopback over HTTPS, in
 * Debian's Chromium. The ID token the pool gives names the tenant; the page sends it with each
 * call, and the function verifies it against the pool's keys.
 */
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const CLIENT = "console-client-id";
const ACCOUNT = "123456789012";

describe.skipIf(!existsSync(CHROMIUM) && !process.env["CI"])("the console on AWS, signed in through a Cognito user pool", () => {
  let dir: string;
  let pool: CognitoPool;
  let api: { url: string; stop: () => Promise<void> };
  let handler: HttpApiHandler;
  let browser: Browser;
  let context: BrowserContext;
  let trusted: typeof globalAgent.options.ca;

  beforeAll(async () => {
    dir = await tempDir();
    const services = localAt(dir, Date.now);
    await createDetector(services, OPERATOR, { AnomalyDetectorName: "operators", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createDetector(services, { tenant: ACCOUNT, accountId: ACCOUNT }, { AnomalyDetectorName: "ours", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    api = await startHttpApi(() => handler);
    pool = await startCognito({ clientId: CLIENT, user: { email: "ana@shop.example", account: ACCOUNT }, callbacks: [`${api.url}/console/callback`] });
    // The function fetches the pool's keys over HTTPS: this process trusts the pool's certificate.
    trusted = globalAgent.options.ca;
    globalAgent.options.ca = pool.certificate;
    const settings = { VIGIL_CONSOLE_ISSUER: pool.issuer, VIGIL_CONSOLE_CLIENT_ID: CLIENT, VIGIL_CONSOLE_DOMAIN: pool.domain };
    ({ api: handler } = await inLocalMode(async () => {
      Object.assign(process.env, settings);
      try {
        return await import("../../functions/api/handler.ts");
      } finally {
        for (const k of Object.keys(settings)) delete process.env[k];
      }
    }, dir));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    // The browser takes the pool's certificate as a browser takes Cognito's.
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    globalAgent.options.ca = trusted;
    await pool?.stop();
    await api?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("signs in through the pool's managed login, shows only the tenant its token names, and signs out of the pool too", async () => {
    const page = await context.newPage();
    const calls: { path: string; authorization: string | undefined }[] = [];
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.origin === api.url && url.pathname.startsWith("/console/api/")) calls.push({ path: url.pathname, authorization: r.headers()["authorization"] });
    });
    await page.goto(`${api.url}/console/`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Incidents" }).waitFor();
    // Through the pool: its login with PKCE, then the code exchanged for tokens by the page.
    expect(pool.requests.slice(0, 2)).toEqual(["GET /oauth2/authorize", "POST /oauth2/token"]);
    expect(new URL(page.url()).pathname).toBe("/console/");
    expect(await page.locator("header .who").textContent()).toContain(ACCOUNT);

    await page.getByRole("link", { name: "Detectors" }).click();
    await page.getByRole("heading", { level: 1, name: "Detectors" }).waitFor();
    await page.getByRole("link", { name: "ours" }).waitFor();
    expect(await page.getByText("operators").count()).toBe(0);
    // Every call carried the pool's ID token, and nothing else authenticated it.
    expect(calls.length).toBeGreaterThan(0);
    const token = (await page.evaluate(`sessionStorage.getItem("vigil.idToken")`)) as string;
    expect(calls.every((c) => c.authorization === `Bearer ${token}`)).toBe(true);
    expect(await context.cookies()).toEqual([]);
    // The function checked it against the pool's published keys.
    expect(pool.requests).toContain(`GET /${pool.issuer.split("/").pop()}/.well-known/jwks.json`);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(pool.requests).toContain("GET /logout");
    expect(await page.evaluate(`sessionStorage.getItem("vigil.idToken")`)).toBeNull();
    await page.close();
  });

  it("refuses a way back that this console did not start, and a token the pool did not sign", async () => {
    const page = await context.newPage();
    await page.goto(`${api.url}/console/callback?code=stolen&state=guessed`);
    await page.getByText("The sign-in did not come back from this console").waitFor();
    expect(pool.requests.filter((r) => r === "POST /oauth2/token")).toHaveLength(1);

    // A token made with another key, planted where the page keeps its own: the function refuses it.
    const { generateKeyPairSync } = await import("node:crypto");
    const forged = pool.idToken({ email: "mallory@else.example", account: ACCOUNT }, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey);
    await page.evaluate(`sessionStorage.setItem("vigil.idToken", ${JSON.stringify(forged)})`);
    const refused = page.waitForResponse((r) => r.url().endsWith("/console/api/ListAnomalyDetectors"));
    await page.goto(`${api.url}/console/detectors`);
    expect([(await refused).status(), (await refused).headers()["www-authenticate"]]).toEqual([401, 'Bearer error="invalid_token"']);
    // The page forgets the token and asks to sign in again.
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await page.evaluate(`sessionStorage.getItem("vigil.idToken")`)).toBeNull();
    expect(await page.getByText("ours").count()).toBe(0);
    await page.close();
  });
});
