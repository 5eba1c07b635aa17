import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Scope } from "../app/index.ts";
import { madeOnFirstUse } from "../model/first-use.ts";
import { AccessDeniedException, InternalServerException, TooManyRequestsException, ValidationException } from "../model/errors.ts";
import { errorResponse, type ApiResponse } from "./router.ts";
import type { Credential, Principal } from "./sigv4.ts";

/**
 * Console sessions: a person signs in once with a tenant's access key pair (the pair the SDK
 * signs with) and the browser then holds a session cookie instead of signing each request.
 * The session carries the same principal a signature would, so every operation applies the
 * same tenant checks. The cookie is HttpOnly, SameSite=Strict, and Secure (with the
 * `__Host-` prefix) when served over TLS; every write (POST, DELETE) must also carry the
 * session's CSRF token in a header, which a page of another origin can neither read nor set.
 * Sessions end after a while idle and after a fixed lifetime, and on sign-out. They live in
 * the serving process: a restart signs everyone out.
 */

export const SESSION_PATH = "/console/session";
/**
 * The console calls the operations at `POST /console/api/<Operation>`: the SDK's paths keep
 * their signatures (and, on AWS, their IAM authorizer), the console's take a session here
 * and a Cognito token behind the HTTP API's JWT authorizer there.
 */
export const CONSOLE_API = "/console/api/";

/** `/<Operation>` for a console API path, as the router takes it; undefined for any other path. */
export function consoleOperationPath(path: string): string | undefined {
  if (!path.startsWith(CONSOLE_API)) return undefined;
  const name = path.slice(CONSOLE_API.length);
  return /^[A-Za-z]{1,64}$/.test(name) ? `/${name}` : undefined;
}
export const CSRF_HEADER = "x-vigil-csrf";
const COOKIE = "vigil_session";
/** Browsers accept a `__Host-` cookie only if Secure, with Path=/ and no Domain: it cannot be set by a sibling host. */
const SECURE_COOKIE = `__Host-${COOKIE}`;

export const DEFAULT_IDLE_MS = 60 * 60_000;
export const DEFAULT_LIFETIME_MS = 12 * 60 * 60_000;
/**
 * Sessions one tenant may hold (a person signing in again starts another): past it, that
 * tenant's oldest ends.
 */
export const DEFAULT_MAX_SESSIONS_PER_TENANT = 500;
/**
 * Sessions in all, against memory (a few hundred bytes each): the tenants' caps together may
 * pass it. Past it, the largest holder's oldest ends (see `makeRoomFor`).
 */
export const DEFAULT_MAX_SESSIONS = 20_000;
/** Wrong secrets tried for one access key before its sign-ins are refused for the rest of the window. */
export const DEFAULT_MAX_FAILED_SIGN_INS = 10;
export const DEFAULT_FAILED_SIGN_IN_WINDOW_MS = 15 * 60_000;
/** Counts of failed sign-ins kept (a key and a client each), so guesses from endless addresses grow nothing without end. */
const MAX_FAILURES_KEPT = 10_000;
/** Sign-in bodies hold two short strings; anything larger is refused unread. */
const MAX_SIGN_IN_BYTES = 4096;
const KEY_ID = /^[A-Za-z0-9_+=,.@-]{1,128}$/;

/** A request at the console's edge: headers lower-cased, `secure` when it arrived over TLS. */
export interface EdgeRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  readonly secure: boolean;
  readonly requestId: string;
  /** Who sent it (http-server.ts clientOf: an IPv4 address, an IPv6 /64), where known: failed sign-ins are counted by key and client. */
  readonly client?: string | undefined;
}

interface Session {
  readonly principal: Principal;
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeen: number;
}

/** What the console's script learns of its session: who, until when, and the token its writes carry. */
export interface SessionInfo {
  readonly Tenant: string;
  readonly AccessKeyId: string;
  readonly CsrfToken: string;
  /** Epoch seconds: when the session ends if left idle (never after its lifetime). */
  readonly ExpiresAt: number;
}

export interface SessionOptions {
  readonly now: () => number;
  readonly idleMs?: number;
  readonly lifetimeMs?: number;
  readonly maxSessions?: number;
  readonly maxSessionsPerTenant?: number;
  readonly maxFailedSignIns?: number;
  readonly failedSignInWindowMs?: number;
}

const digest = (s: string) => createHash("sha256").update(s).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
const token = () => randomBytes(32).toString("base64url");

/** The value of one cookie in a Cookie header, if there. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse => ({
  status,
  headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  body: JSON.stringify(body),
});

export class ConsoleSessions {
  /** By the SHA-256 of the cookie's token: the store never holds a usable token. Oldest first (by sign-in). */
  private readonly sessions = new Map<string, Session>();
  /** The same keys, least recently seen first: the next to go idle is the first. */
  private readonly bySeen = new Set<string>();
  /** Each tenant's sessions' keys, oldest first. */
  private readonly byTenant = new Map<string, Set<string>>();
  /**
   * The tenants holding sessions, by how many they hold (each set in the order its tenants
   * reached that count), and the largest count held: the largest holder is found without
   * looking at every tenant or session, since a count moves by one at a time.
   */
  private readonly byCount = new Map<number, Set<string>>();
  private largest = 0;
  private readonly idleMs: number;
  private readonly lifetimeMs: number;
  private readonly maxSessions: number;
  private readonly maxPerTenant: number;
  /**
   * Failed sign-ins by access key and client, for keys of a tenant only (an unknown key has no
   * secret to guess, and counting them would let a flood of made-up keys grow this without
   * end). By client too, so a stranger who learned a key id can hold back its own guesses, not
   * the tenant's sign-in from elsewhere; a secret is 16 characters at least, so guesses spread
   * over many addresses stay guesses. At most MAX_FAILURES_KEPT are kept, the oldest let go.
   */
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly credentials: (accessKeyId: string) => Credential | undefined,
    private readonly options: SessionOptions,
  ) {
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.lifetimeMs = options.lifetimeMs ?? DEFAULT_LIFETIME_MS;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.maxPerTenant = options.maxSessionsPerTenant ?? DEFAULT_MAX_SESSIONS_PER_TENANT;
  }

  /** `POST /console/session` signs in, `GET` tells the session, `DELETE` signs out; other paths are not this module's. */
  handle(request: EdgeRequest): ApiResponse | undefined {
    if (request.path !== SESSION_PATH) return undefined;
    try {
      if (request.method === "POST") return this.signIn(request);
      if (request.method === "GET") return json(200, this.infoOf(this.current(request)));
      if (request.method === "DELETE") return this.signOut(request);
      return json(405, { __type: "UnknownOperationException", Message: `${request.method} is not allowed on ${SESSION_PATH}` }, { "x-amzn-errortype": "UnknownOperationException" });
    } catch (e) {
      return errorResponse(e, request.requestId);
    }
  }

  /** The session a request's cookie names, if it is live (its idle clock restarted): what the console's page is served with. */
  /** Whether the request's cookie names a live session, the session left as it is (its idle clock; an ended one is not removed here). */
  holdsLive(request: Pick<EdgeRequest, "headers" | "secure">): boolean {
    const key = this.keyOf(request);
    const session = key === undefined ? undefined : this.sessions.get(key);
    return session !== undefined && !this.expired(session, this.options.now());
  }

  /** The key a session is kept under, from the request's cookie (its digest); undefined without one. */
  private keyOf(request: Pick<EdgeRequest, "headers" | "secure">): string | undefined {
    const cookie = cookieValue(request.headers["cookie"], this.cookieName(request));
    return cookie === undefined ? undefined : digest(cookie).toString("hex");
  }

  sessionOf(request: Pick<EdgeRequest, "headers" | "secure">): SessionInfo | undefined {
    try {
      return this.infoOf(this.current(request));
    } catch (e) {
      if (e instanceof AccessDeniedException) return undefined;
      throw e;
    }
  }

  /** The principal of a console API request: its session's. A write must carry the session's CSRF token. */
  principalOf(request: EdgeRequest): Principal {
    const session = this.current(request);
    if (request.method !== "GET" && request.method !== "HEAD") {
      const sent = request.headers[CSRF_HEADER] ?? "";
      if (!sent || !sameSecret(sent, session.csrfToken)) throw new AccessDeniedException(`The request has no valid ${CSRF_HEADER} header: the console sends the token its session was given`);
    }
    return session.principal;
  }

  private signIn(request: EdgeRequest): ApiResponse {
    // A form of another site can post only form encodings without a preflight, and never JSON.
    if (!/^application\/json\b/i.test(request.headers["content-type"] ?? "")) throw new ValidationException("Sign in with a JSON body: {AccessKeyId, SecretAccessKey}");
    this.checkOrigin(request);
    if (Buffer.byteLength(request.body) > MAX_SIGN_IN_BYTES) throw new ValidationException(`The sign-in body is over ${MAX_SIGN_IN_BYTES} bytes`);
    const { AccessKeyId, SecretAccessKey } = parseSignIn(request.body);
    const now = this.options.now();
    const failing = `${AccessKeyId}\n${request.client ?? ""}`;
    this.checkFailures(AccessKeyId, failing, now);
    const credential = this.credentials(AccessKeyId);
    // Compare against something even for an unknown key, so timing does not tell keys apart.
    const matches = sameSecret(SecretAccessKey, credential?.secretAccessKey ?? token());
    if (!credential || !matches) {
      if (credential) this.countFailure(failing, now);
      throw new AccessDeniedException("The access key ID and secret access key do not match any tenant's: check both and try again");
    }
    this.failures.delete(failing);
    this.forgetExpired(now);
    this.makeRoomFor(credential.tenant);
    const cookie = token();
    const session: Session = { principal: { accessKeyId: AccessKeyId, tenant: credential.tenant }, csrfToken: token(), createdAt: now, lastSeen: now };
    const key = digest(cookie).toString("hex");
    this.sessions.set(key, session);
    this.bySeen.add(key);
    const own = this.byTenant.get(credential.tenant) ?? new Set<string>();
    this.byTenant.set(credential.tenant, own.add(key));
    this.recount(credential.tenant, own.size - 1, own.size);
    return json(200, this.infoOf(session), { "set-cookie": this.cookie(request, cookie, Math.floor(this.lifetimeMs / 1000)) });
  }

  /**
   * Room for one more session of `tenant`. At its own cap, its own oldest ends. When all
   * sessions together are at theirs, the oldest of the tenant holding the most ends, the
   * signing-in tenant's own when it holds as many as any (so a tie never ends another's).
   * A tenant holding fewer than the largest holder can so always sign in, and takes room only
   * from a tenant holding more than it: signing in over and over, a tenant brings others down
   * to about as many as it holds itself (at most its own cap), never further, and once it is the
   * largest holder it ends its own. With many tenants signed in at the bound on all, each keeps
   * its fair share of it, or all it holds when that is fewer.
   */
  private makeRoomFor(tenant: string): void {
    const own = this.byTenant.get(tenant);
    while (own?.size && own.size >= this.maxPerTenant) this.end(own.values().next().value!);
    while (this.sessions.size >= this.maxSessions) {
      const holder = (own?.size ?? 0) >= this.largest ? tenant : this.byCount.get(this.largest)?.values().next().value;
      const oldest = holder === undefined ? undefined : this.byTenant.get(holder)?.values().next().value;
      if (oldest === undefined) throw new TooManyRequestsException(`The console holds as many sessions as it may (${this.maxSessions}): try again when some have ended`);
      this.end(oldest);
    }
  }

  /** Moves `tenant` from holding `from` sessions to holding `to` (one more or one fewer), keeping the largest count. */
  private recount(tenant: string, from: number, to: number): void {
    const was = this.byCount.get(from);
    was?.delete(tenant);
    if (was?.size === 0) this.byCount.delete(from);
    if (to > 0) {
      const now = this.byCount.get(to) ?? new Set<string>();
      this.byCount.set(to, now.add(tenant));
    }
    if (to > this.largest) this.largest = to;
    // The tenant that held the largest count now holds one fewer: if it was the only one, that is the largest.
    else if (from === this.largest && !this.byCount.has(from)) this.largest = to;
  }

  /** Forgets a session, and its place in its tenant's. */
  private end(key: string): void {
    const session = this.sessions.get(key);
    if (!session) return;
    this.sessions.delete(key);
    this.bySeen.delete(key);
    const tenant = session.principal.tenant;
    const own = this.byTenant.get(tenant);
    if (!own?.delete(key)) return;
    this.recount(tenant, own.size + 1, own.size);
    if (own.size === 0) this.byTenant.delete(tenant);
  }

  /** A key whose secret a client guessed wrong too often in the window is refused to that client, right or wrong, until the window ends. */
  private checkFailures(accessKeyId: string, failing: string, now: number): void {
    const failed = this.failures.get(failing);
    if (!failed) return;
    const until = failed.since + (this.options.failedSignInWindowMs ?? DEFAULT_FAILED_SIGN_IN_WINDOW_MS);
    if (now >= until) this.failures.delete(failing);
    else if (failed.count >= (this.options.maxFailedSignIns ?? DEFAULT_MAX_FAILED_SIGN_INS)) {
      throw new TooManyRequestsException(`Too many failed sign-ins with access key ${accessKeyId}: try again after ${new Date(until).toISOString()}`);
    }
  }

  private countFailure(failing: string, now: number): void {
    const failed = this.failures.get(failing);
    if (!failed && this.failures.size >= MAX_FAILURES_KEPT) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(failing, failed ? { count: failed.count + 1, since: failed.since } : { count: 1, since: now });
  }

  private signOut(request: EdgeRequest): ApiResponse {
    this.checkOrigin(request);
    const key = this.keyOf(request);
    // A session already gone needs no token to forget; a live one is ended only by its own page.
    if (this.holdsLive(request)) this.principalOf(request);
    if (key !== undefined) this.end(key);
    return json(200, {}, { "set-cookie": this.cookie(request, "", 0) });
  }

  /** The live session the request's cookie names, its idle clock restarted. */
  private current(request: Pick<EdgeRequest, "headers" | "secure">): Session {
    const key = this.keyOf(request);
    if (key === undefined) throw new AccessDeniedException("Not signed in: sign in with an access key pair");
    const session = this.sessions.get(key);
    const now = this.options.now();
    if (!session) throw new AccessDeniedException("This session has ended: sign in again");
    if (this.expired(session, now)) {
      this.end(key);
      throw new AccessDeniedException("This session has expired: sign in again");
    }
    session.lastSeen = now;
    this.bySeen.delete(key);
    this.bySeen.add(key);
    return session;
  }

  private infoOf(session: Session): SessionInfo {
    const end = Math.min(session.lastSeen + this.idleMs, session.createdAt + this.lifetimeMs);
    return { Tenant: session.principal.tenant, AccessKeyId: session.principal.accessKeyId, CsrfToken: session.csrfToken, ExpiresAt: Math.floor(end / 1000) };
  }

  private expired(session: Session, now: number): boolean {
    return now - session.lastSeen > this.idleMs || now - session.createdAt > this.lifetimeMs;
  }

  /**
   * Ends every expired session, looking only at ones that have: a session past its lifetime is
   * among the oldest signed in, one idle too long among the least recently seen, so each order
   * is read from its start until a session still live. (Should the clock step back, a session
   * behind a live one may outlast its time here; its next use ends it, as ever.)
   */
  private forgetExpired(now: number): void {
    for (const order of [this.sessions.keys(), this.bySeen.values()]) {
      for (const key of order) {
        const session = this.sessions.get(key);
        if (session && !this.expired(session, now)) break;
        this.end(key);
      }
    }
  }

  /** A browser always sends Origin on a cross-origin write; when it is there it must be this host. */
  private checkOrigin(request: EdgeRequest): void {
    const origin = request.headers["origin"];
    if (origin === undefined) return;
    const host = request.headers["host"];
    if (!URL.canParse(origin) || !host || new URL(origin).host !== host) throw new AccessDeniedException("Sign-in and sign-out are taken only from the console's own origin");
  }

  private cookieName(request: Pick<EdgeRequest, "secure">): string {
    return request.secure ? SECURE_COOKIE : COOKIE;
  }

  private cookie(request: EdgeRequest, value: string, maxAgeSeconds: number): string {
    return [`${this.cookieName(request)}=${value}`, "Path=/", `Max-Age=${maxAgeSeconds}`, "HttpOnly", "SameSite=Strict", ...(request.secure ? ["Secure"] : [])].join("; ");
  }
}

function parseSignIn(body: string): { AccessKeyId: string; SecretAccessKey: string } {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    throw new ValidationException("The sign-in body is not JSON", { reason: "CANNOT_PARSE" });
  }
  const { AccessKeyId, SecretAccessKey } = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const fields = [
    ...(typeof AccessKeyId === "string" && KEY_ID.test(AccessKeyId) ? [] : [{ Name: "AccessKeyId", Message: "is required: the access key ID, 1 to 128 letters, digits or _+=,.@-" }]),
    ...(typeof SecretAccessKey === "string" && SecretAccessKey.length > 0 && SecretAccessKey.length <= 1024 ? [] : [{ Name: "SecretAccessKey", Message: "is required: 1 to 1024 characters" }]),
  ];
  if (fields.length) throw new ValidationException("Sign in needs an access key ID and a secret access key", { fields });
  return { AccessKeyId: AccessKeyId as string, SecretAccessKey: SecretAccessKey as string };
}

/** A console token missing, or one that does not verify: the page must sign in again (401), not a refusal of what it asked. */
export class TokenRefused extends AccessDeniedException {}

/** The ID token's claim that names the tenant: its account, set by an administrator (the app client cannot write it). */
export const ACCOUNT_CLAIM = "custom:vigil_account";

/** Where the console's tokens come from: the user pool (its issuer URL) and the console's app client. */
export interface TokenIssuer {
  /** `https://cognito-idp.<region>.amazonaws.com/<user pool id>`. */
  readonly issuer: string;
  /** The console's app client id: the ID token's audience. */
  readonly clientId: string;
  /** Where the pool's keys are; `<issuer>/.well-known/jwks.json` unless given. */
  readonly jwksUri?: string | undefined;
}

/**
 * On AWS the console's calls carry a Cognito ID token as a bearer token. The HTTP API's JWT
 * authorizer checks it first; the api function checks it again with aws-jwt-verify, AWS's
 * own library (signature against the pool's published keys, issuer, audience = the console's
 * app client, `token_use` = id, expiry), and takes the tenant from its account claim.
 */
export class ConsoleTokens {
  constructor(private readonly issuer: TokenIssuer) {}

  /** The verifier, made at the first token checked: the api function's IAM routes never load aws-jwt-verify. */
  private readonly verifierOnce = madeOnFirstUse(() =>
    Promise.all([import("aws-jwt-verify"), import("aws-jwt-verify/error")]).then(([{ JwtVerifier }, { FetchError, JwksNotAvailableInCacheError }]) => {
      const issuer = this.issuer;
      const verifier = JwtVerifier.create({
        issuer: issuer.issuer,
        audience: issuer.clientId,
        jwksUri: issuer.jwksUri ?? `${issuer.issuer}/.well-known/jwks.json`,
        customJwtCheck: ({ payload }) => {
          if (payload["token_use"] !== "id") throw new Error("not an ID token");
        },
      }) as unknown as { verify(token: string): Promise<Record<string, unknown>> };
      return { verify: (token: string) => verifier.verify(token), keysOutOfReach: (e: unknown) => e instanceof FetchError || e instanceof JwksNotAvailableInCacheError };
    }),
  );

  /**
   * The tenant a request's bearer token names. Refused with TokenRefused when there is none or
   * it does not verify, with AccessDeniedException when it names no account; the pool's keys
   * out of reach are the server's failure (InternalServerException), not the token's.
   */
  async scopeOf(headers: Readonly<Record<string, string | undefined>>): Promise<Scope> {
    const token = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(headers["authorization"] ?? "")?.[1];
    if (!token) throw new TokenRefused("Not signed in: the console's calls carry a Cognito ID token (Authorization: Bearer …)");
    const verifier = await this.verifierOnce();
    let claims: Record<string, unknown>;
    try {
      claims = await verifier.verify(token);
    } catch (e) {
      if (verifier.keysOutOfReach(e) && e instanceof Error) throw new InternalServerException(`The user pool's keys could not be read to check the sign-in token (${e.message}): try again`);
      throw new TokenRefused(`The sign-in token was refused (${e instanceof Error ? e.message : String(e)}): sign in again`);
    }
    const account = claims[ACCOUNT_CLAIM];
    if (typeof account !== "string" || !/^\d{12}$/.test(account)) throw new AccessDeniedException(`The signed-in user has no tenant: an administrator sets its ${ACCOUNT_CLAIM} attribute to the tenant's 12-digit account`);
    return { tenant: account, accountId: account };
  }
}

/**
 * A console call on AWS: `call` as the tenant the request's token names. A token refused is
 * answered as the HTTP API's JWT authorizer answers it, 401, so the page signs in again; the
 * call's own refusals are L4M's errors as ever.
 */
export async function tokenCall(tokens: Pick<ConsoleTokens, "scopeOf">, headers: Readonly<Record<string, string | undefined>>, requestId: string, call: (scope: Scope) => Promise<ApiResponse>): Promise<ApiResponse> {
  let scope: Scope;
  try {
    scope = await tokens.scopeOf(headers);
  } catch (e) {
    const res = errorResponse(e, requestId);
    return e instanceof TokenRefused ? { ...res, status: 401, headers: { ...res.headers, "www-authenticate": 'Bearer error="invalid_token"' } } : res;
  }
  return call(scope).catch((e: unknown) => errorResponse(e, requestId));
}

/**
 * The console's sign-in on AWS, from the api function's settings; without a user pool
 * configured, its calls are refused and its page offers no sign-in.
 */
export function cognitoFromEnv(env: Readonly<Record<string, string | undefined>>): { tokens: Pick<ConsoleTokens, "scopeOf">; signIn?: { SignIn: "cognito"; Domain: string; ClientId: string } } {
  const [issuer, clientId, domain] = [env["VIGIL_CONSOLE_ISSUER"], env["VIGIL_CONSOLE_CLIENT_ID"], env["VIGIL_CONSOLE_DOMAIN"]];
  if (!issuer || !clientId || !domain) return { tokens: { scopeOf: () => Promise.reject(new AccessDeniedException("The console's sign-in is not configured here (VIGIL_CONSOLE_ISSUER, VIGIL_CONSOLE_CLIENT_ID, VIGIL_CONSOLE_DOMAIN)")) } };
  return { tokens: new ConsoleTokens({ issuer, clientId }), signIn: { SignIn: "cognito", Domain: domain, ClientId: clientId } };
}
