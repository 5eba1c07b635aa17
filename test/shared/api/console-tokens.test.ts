import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { globalAgent } from "node:https";
import { createServer, type Server } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATOR, createDetector } from "../../../shared/app/index.ts";
import { ACCOUNT_CLAIM, ConsoleTokens, cognitoFromEnv } from "../../../shared/api/session.ts";
import { AccessDeniedException, InternalServerException } from "../../../shared/model/errors.ts";
import { loopbackCertificate } from "../../fakes/cognito-server.ts";
import { inLocalMode } from "../../functions/local-mode.ts";
import { localAt, tempDir } from "../../builders.ts";

/**
 * The console's Cognito ID tokens, verified with aws-jwt-verify against a user pool's keys
 * served here over HTTPS (a certificate made for the test, trusted by this process only):
 * what a token must be to name a tenant, and the api function taking it on the console's routes.
 */
const CLIENT = "console-client-id";
const ACCOUNT = "123456789012";

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function jwt(key: KeyObject, kid: string, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const head = b64({ alg: "RS256", typ: "JWT", kid, ...header });
  const body = b64(claims);
  return `${head}.${body}.${sign("sha256", Buffer.from(`${head}.${body}`), key).toString("base64url")}`;
}

describe("console tokens (Cognito ID tokens, aws-jwt-verify)", () => {
  const pool = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
  let server: Server;
  let issuer: string;
  let fetched = 0;
  let trusted: typeof globalAgent.options.ca;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({ iss: issuer, aud: CLIENT, token_use: "id", iat: now(), exp: now() + 3600, email: "ana@shop.example", [ACCOUNT_CLAIM]: ACCOUNT, ...over });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const { key, cert } = await loopbackCertificate();
    const jwks = { keys: [{ ...pool.publicKey.export({ format: "jwk" }), kid: "pool-key", alg: "RS256", use: "sig" }] };
    server = createServer({ key, cert }, (req, res) => {
      if (req.url !== "/us-east-1_Pool/.well-known/jwks.json") return res.writeHead(404).end();
      fetched++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    issuer = `https://127.0.0.1:${(server.address() as { port: number }).port}/us-east-1_Pool`;
    trusted = globalAgent.options.ca;
    globalAgent.options.ca = cert;
  });
  afterAll(async () => {
    globalAgent.options.ca = trusted;
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it("names the tenant of a valid ID token by its account claim, fetching the pool's keys once", async () => {
    const tokens = new ConsoleTokens({ issuer, clientId: CLIENT });
    expect(await tokens.scopeOf(bearer(jwt(pool.privateKey, "pool-key", claims())))).toEqual({ tenant: ACCOUNT, accountId: ACCOUNT });
    expect(await tokens.scopeOf(bearer(jwt(pool.privateKey, "pool-key", claims({ [ACCOUNT_CLAIM]: "000000000000" }))))).toEqual({ tenant: "000000000000", accountId: "000000000000" });
    expect(fetched).toBe(1);
  });

  it.each([
    ["no token", undefined, /Not signed in/],
    ["not a bearer token", { authorization: "Basic dXNlcjpwYXNz" }, /Not signed in/],
    ["expired", () => jwt(pool.privateKey, "pool-key", claims({ exp: now() - 60 })), /expired/],
    ["another audience", () => jwt(pool.privateKey, "pool-key", claims({ aud: "another-client" })), /audience/i],
    ["another issuer", () => jwt(pool.privateKey, "pool-key", claims({ iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other" })), /issuer/i],
    ["an access token", () => jwt(pool.privateKey, "pool-key", claims({ token_use: "access" })), /not an ID token/],
    ["signed by another key under the pool's key id", () => jwt(stranger.privateKey, "pool-key", claims()), /signature/i],
    ["a key id the pool does not have", () => jwt(stranger.privateKey, "other-key", claims()), /JWK/i],
    ["unsigned (alg none)", () => `${b64({ alg: "none", typ: "JWT", kid: "pool-key" })}.${b64(claims())}.`, /Not signed in/],
    ["no account", () => jwt(pool.privateKey, "pool-key", claims({ [ACCOUNT_CLAIM]: undefined })), /has no tenant/],
    ["an account that is not 12 digits", () => jwt(pool.privateKey, "pool-key", claims({ [ACCOUNT_CLAIM]: "../000000000000" })), /has no tenant/],
  ] as const)("refuses %s", async (_, token, message) => {
    const tokens = new ConsoleTokens({ issuer, clientId: CLIENT });
    const headers = typeof token === "function" ? bearer(token()) : (token ?? {});
    const refused = await tokens.scopeOf(headers).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AccessDeniedException);
    expect((refused as Error).message).toMatch(message);
  });

  it("is what the api function takes on the console's routes: that tenant's resources, no other's", async () => {
    const dir = await tempDir();
    const services = localAt(dir, Date.now);
    await createDetector(services, OPERATOR, { AnomalyDetectorName: "operators", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createDetector(services, { tenant: ACCOUNT, accountId: ACCOUNT }, { AnomalyDetectorName: "ours", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const { api } = await inLocalMode(async () => {
      process.env["VIGIL_CONSOLE_ISSUER"] = issuer;
      process.env["VIGIL_CONSOLE_CLIENT_ID"] = CLIENT;
      process.env["VIGIL_CONSOLE_DOMAIN"] = "vigil-ci.auth.us-east-1.amazoncognito.com";
      try {
        return await import("../../../functions/api/handler.ts");
      } finally {
        for (const k of ["VIGIL_CONSOLE_ISSUER", "VIGIL_CONSOLE_CLIENT_ID", "VIGIL_CONSOLE_DOMAIN"]) delete process.env[k];
      }
    }, dir);
    const event = (path: string, headers: Record<string, string> = {}, method = "POST") => ({ rawPath: path, body: "{}", headers, requestContext: { requestId: "r-1", http: { method } } });
    const listed = await api(event("/console/api/ListAnomalyDetectors", bearer(jwt(pool.privateKey, "pool-key", claims()))));
    expect(listed.statusCode).toBe(200);
    expect((JSON.parse(listed.body) as { AnomalyDetectorSummaryList: { AnomalyDetectorName: string }[] }).AnomalyDetectorSummaryList.map((d) => d.AnomalyDetectorName)).toEqual(["ours"]);
    const forged = await api(event("/console/api/ListAnomalyDetectors", bearer(jwt(stranger.privateKey, "pool-key", claims()))));
    // Refused as the HTTP API's JWT authorizer refuses: 401, so the page signs in again.
    expect([forged.statusCode, forged.headers["x-amzn-errortype"], forged.headers["www-authenticate"]]).toEqual([401, "AccessDeniedException", 'Bearer error="invalid_token"']);
    expect((await api(event("/console/api/ListAnomalyDetectors"))).statusCode).toBe(401);
    // A good token whose user has no tenant is a refusal of the user, not of the token: 403, signed in still.
    const tenantless = await api(event("/console/api/ListAnomalyDetectors", bearer(jwt(pool.privateKey, "pool-key", claims({ [ACCOUNT_CLAIM]: undefined })))));
    expect([tenantless.statusCode, tenantless.headers["www-authenticate"]]).toEqual([403, undefined]);
    // The page is told to sign in through the user pool, and may fetch its token endpoint.
    const config = await api(event("/console/config.json", {}, "GET"));
    expect(JSON.parse(config.body)).toEqual({ SignIn: "cognito", Domain: "vigil-ci.auth.us-east-1.amazoncognito.com", ClientId: CLIENT });
    expect(config.headers["content-security-policy"]).toContain("connect-src 'self' https://vigil-ci.auth.us-east-1.amazoncognito.com;");
  });

  it("tells the pool's keys out of reach as the server's failure, not the token's", async () => {
    const tokens = new ConsoleTokens({ issuer, clientId: CLIENT, jwksUri: "https://127.0.0.1:1/keys.json" });
    const failed = await tokens.scopeOf(bearer(jwt(pool.privateKey, "pool-key", claims()))).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(InternalServerException);
    expect((failed as Error).message).toMatch(/keys could not be read/);
  });

  it("refuses every console call where no user pool is configured", async () => {
    const { tokens, signIn } = cognitoFromEnv({});
    expect(signIn).toBeUndefined();
    await expect(tokens.scopeOf(bearer(jwt(pool.privateKey, "pool-key", claims())))).rejects.toThrow(/not configured/);
  });
});
