import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { ACCOUNT_CLAIM } from "../../shared/api/session.ts";
import { tempDir } from "../builders.ts";

/**
 * A Cognito user pool on loopback, over HTTPS with a certificate made for the test: its
 * published keys (`/<pool>/.well-known/jwks.json`) and its managed login's OAuth 2.0
 * endpoints as the console uses them: `/oauth2/authorize` (the authorization code flow with
 * PKCE; the one user is taken as signed in, so it answers with the redirect a real sign-in
 * form ends in), `/oauth2/token` (the code and its verifier exchanged for an ID token signed
 * with the pool's key) and `/logout`. Requests that do not follow the protocol are refused.
 */
export interface CognitoUser {
  readonly email: string;
  /** The tenant's account, the user's `custom:vigil_account` attribute. */
  readonly account: string;
}

export interface CognitoPool {
  /** `127.0.0.1:<port>`: what the console's settings name as the pool's domain. */
  readonly domain: string;
  /** The pool's issuer URL, as ID tokens carry it. */
  readonly issuer: string;
  readonly clientId: string;
  /** The certificate the pool serves: trust it to fetch its keys. */
  readonly certificate: Buffer;
  /** Each request's method and path (query left off). */
  readonly requests: string[];
  /** An ID token for the user, signed with the pool's key (or `key`). */
  idToken(user: CognitoUser, key?: KeyObject): string;
  stop(): Promise<void>;
}

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const POOL = "us-east-1_Local";
const KEY_ID = "pool-key";

/** A certificate for 127.0.0.1 made for a test (openssl), with its key: trust `cert` where it is fetched. */
export async function loopbackCertificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await tempDir();
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`openssl could not make the test's certificate: ${made.stderr}`);
  return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > 16_384) req.destroy(new Error("body over 16 KiB"));
    });
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

export async function startCognito(options: { clientId: string; user: CognitoUser; callbacks: readonly string[] }): Promise<CognitoPool> {
  const { clientId, user } = options;
  const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const tls = await loopbackCertificate();
  const codes = new Map<string, { challenge: string; redirect: string }>();
  const requests: string[] = [];
  let issuer = "";
  const idToken = (who: CognitoUser, key: KeyObject = keys.privateKey) => {
    const now = Math.floor(Date.now() / 1000);
    const head = b64({ alg: "RS256", typ: "JWT", kid: KEY_ID });
    const claims = b64({ iss: issuer, aud: clientId, token_use: "id", iat: now, exp: now + 3600, email: who.email, "cognito:username": who.email, [ACCOUNT_CLAIM]: who.account });
    return `${head}.${claims}.${sign("sha256", Buffer.from(`${head}.${claims}`), key).toString("base64url")}`;
  };
  const refuse = (res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}) => res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify({ error }));

  const server: Server = createServer(tls, (req, res) => {
    const url = new URL(req.url ?? "/", "https://pool");
    requests.push(`${req.method} ${url.pathname}`);
    const q = url.searchParams;
    if (req.method === "GET" && url.pathname === `/${POOL}/.well-known/jwks.json`) {
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [{ ...keys.publicKey.export({ format: "jwk" }), kid: KEY_ID, alg: "RS256", use: "sig" }] }));
    }
    if (req.method === "GET" && url.pathname === "/oauth2/authorize") {
      const redirect = q.get("redirect_uri") ?? "";
      if (q.get("response_type") !== "code" || q.get("client_id") !== clientId || !options.callbacks.includes(redirect)) return refuse(res, 400, "invalid_request");
      if (q.get("code_challenge_method") !== "S256" || !q.get("code_challenge") || !q.get("state")) return refuse(res, 400, "invalid_request");
      const code = randomBytes(16).toString("hex");
      codes.set(code, { challenge: q.get("code_challenge")!, redirect });
      return res.writeHead(302, { location: `${redirect}?${new URLSearchParams({ code, state: q.get("state")! })}` }).end();
    }
    if (req.method === "POST" && url.pathname === "/oauth2/token") {
      // The console's page calls it from its own origin: Cognito answers it with CORS headers.
      const cors = { "access-control-allow-origin": req.headers.origin ?? "*" };
      void body(req).then((text) => {
        const form = new URLSearchParams(text);
        const code = form.get("code") ?? "";
        const issued = codes.get(code);
        codes.delete(code);
        const verified = issued && createHash("sha256").update(form.get("code_verifier") ?? "").digest("base64url") === issued.challenge;
        if (form.get("grant_type") !== "authorization_code" || form.get("client_id") !== clientId || !issued || !verified || form.get("redirect_uri") !== issued.redirect) return refuse(res, 400, "invalid_grant", cors);
        res.writeHead(200, { "content-type": "application/json", ...cors }).end(JSON.stringify({ id_token: idToken(user), access_token: "unused", token_type: "Bearer", expires_in: 3600 }));
      }, () => refuse(res, 413, "invalid_request", cors));
      return;
    }
    if (req.method === "GET" && url.pathname === "/logout") {
      const back = q.get("logout_uri") ?? "";
      if (q.get("client_id") !== clientId || !options.callbacks.some((c) => new URL(c).origin === new URL(back, "https://none").origin)) return refuse(res, 400, "invalid_request");
      return res.writeHead(302, { location: back }).end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const domain = `127.0.0.1:${(server.address() as { port: number }).port}`;
  issuer = `https://${domain}/${POOL}`;
  return {
    domain,
    issuer,
    clientId,
    certificate: tls.cert,
    requests,
    idToken,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
