import { finishSignIn, forgetToken, tokenSession } from "./cognito.ts";
import { forgetPreloads } from "./preload.ts";
import { BOOT_ELEMENT, type ConsoleConfig, type OperationName, type Operations, type PageBoot, type SessionInfo } from "./wire.ts";

/**
 * The console's one way to the server: the operations as the SDK calls them (`POST
 * /<Operation>`, JSON), under `/console/api/`. Locally they are authenticated by the session
 * cookie the browser holds, each carrying the session's CSRF token; on AWS by the Cognito ID
 * token, which the HTTP API's JWT authorizer checks before the api function does. No other
 * back end.
 */

const SESSION = "/console/session";
const API = "/console/api/";
const CSRF_HEADER = "x-vigil-csrf";

/** An operation's L4M error: its code (`__type`) and message, as the server said them. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let session: SessionInfo | undefined;
const signedOutListeners = new Set<(why: string) => void>();

let signedOutWhy: string | undefined;

/** Called when the server ends the session under the console (expiry, restart); at once if it did before the listener came. */
export function onSignedOut(listener: (why: string) => void): () => void {
  signedOutListeners.add(listener);
  const missed = signedOutWhy;
  signedOutWhy = undefined;
  if (missed !== undefined) listener(missed);
  return () => signedOutListeners.delete(listener);
}

function signedOut(why: string): void {
  forgetPreloads();
  if (!signedOutListeners.size) signedOutWhy = why;
  for (const l of signedOutListeners) l(why);
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  let body: { __type?: unknown; Message?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: the status says enough
  }
  const code = typeof body.__type === "string" ? body.__type : `HTTP ${res.status}`;
  const message = typeof body.Message === "string" ? body.Message : typeof body.message === "string" ? body.message : res.statusText || "The server did not answer";
  return new ApiError(code, message, res.status);
}

/**
 * What the page was served with (console/server.ts): the sign-in configuration and the
 * session its cookie named then. Read once, when the console's first script loads.
 */
function takeBoot(): PageBoot | undefined {
  const element = document.getElementById(BOOT_ELEMENT);
  element?.remove();
  try {
    return element?.textContent ? (JSON.parse(element.textContent) as PageBoot) : undefined;
  } catch {
    return undefined;
  }
}
const boot = takeBoot();
let config: ConsoleConfig | undefined = boot?.Config;
session = boot && (boot.Config.SignIn === "cognito" ? tokenSession() : boot.Session);
let bootTaken = !boot;

/** Whether calls can be made now, with the session the page came with (or one since). */
export const signedIn = () => session !== undefined;

/** The configuration and session the page was served with, once (undefined without them, or once taken): later checks ask the server. */
export function bootSession(): { config: ConsoleConfig; session: SessionInfo | undefined } | undefined {
  if (bootTaken || !config) return undefined;
  bootTaken = true;
  return { config, session };
}

/** How this console signs in: with a key pair (vigil serve) or through Cognito (AWS). */
export async function consoleConfig(): Promise<ConsoleConfig> {
  if (config) return config;
  const res = await fetch("/console/config.json", { credentials: "same-origin", cache: "no-store" });
  if (!res.ok) throw await errorOf(res);
  return (config = (await res.json()) as ConsoleConfig);
}

/** The session the browser holds (a cookie, or a Cognito token), if any, as the server now sees it. */
export async function currentSession(): Promise<SessionInfo | undefined> {
  if (config?.SignIn === "cognito") return (session = tokenSession());
  // Both at once: a page waits on one round trip, not two.
  const [c, res] = await Promise.all([consoleConfig(), fetch(SESSION, { credentials: "same-origin", cache: "no-store" })]);
  if (c.SignIn === "cognito") return (session = tokenSession());
  if (res.status === 403) return (session = undefined);
  if (!res.ok) throw await errorOf(res);
  return (session = (await res.json()) as SessionInfo);
}

export async function signIn(accessKeyId: string, secretAccessKey: string): Promise<SessionInfo> {
  signedOutWhy = undefined;
  const res = await fetch(SESSION, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey }) });
  if (!res.ok) throw await errorOf(res);
  return (session = (await res.json()) as SessionInfo);
}

/** On AWS, back from Cognito's sign-in page: the code exchanged for the token the calls carry from now on. */
export async function finishCognitoSignIn(c: Extract<ConsoleConfig, { SignIn: "cognito" }>, query: URLSearchParams): Promise<SessionInfo> {
  signedOutWhy = undefined;
  return (session = await finishSignIn(c, query));
}

export async function signOut(): Promise<void> {
  forgetPreloads();
  if (session?.IdToken) {
    session = undefined;
    return;
  }
  const res = await fetch(SESSION, { method: "DELETE", credentials: "same-origin", headers: session ? { [CSRF_HEADER]: session.CsrfToken } : {} });
  session = undefined;
  if (!res.ok) throw await errorOf(res);
}

export async function call<K extends OperationName>(operation: K, input: Operations[K][0]): Promise<Operations[K][1]> {
  if (!session) throw new ApiError("AccessDeniedException", "Not signed in", 403);
  const auth: Record<string, string> = session.IdToken ? { authorization: `Bearer ${session.IdToken}` } : { [CSRF_HEADER]: session.CsrfToken };
  const res = await fetch(`${API}${operation}`, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify(input) });
  if (res.ok) return (await res.json()) as Operations[K][1];
  const error = await errorOf(res);
  // On AWS a token refused is answered 401 (by the HTTP API's authorizer or the function): it is of no more use.
  if (res.status === 401 && session.IdToken) forgetToken();
  // A refusal of the session itself (not of the resource): back to sign-in.
  if ((res.status === 401 || error.code === "AccessDeniedException") && !(await currentSession().catch(() => undefined))) signedOut(error.message);
  throw error;
}

type PagedOperation = { [K in OperationName]: Operations[K][1] extends { NextToken?: string } ? K : never }[OperationName];

/** Every page of a list operation, up to `cap` items, and whether more were left. */
export async function callAll<K extends PagedOperation, T>(operation: K, input: Operations[K][0], items: (page: Operations[K][1]) => readonly T[], cap = 1000): Promise<{ items: T[]; truncated: boolean }> {
  const out: T[] = [];
  let next: string | undefined;
  do {
    const page = await call(operation, { ...input, ...(next ? { NextToken: next } : {}) } as Operations[K][0]);
    out.push(...items(page));
    next = (page as { NextToken?: string }).NextToken;
  } while (next && out.length < cap);
  return { items: out.slice(0, cap), truncated: !!next || out.length > cap };
}

/** Runs `task` over `inputs` with at most `limit` at once, keeping their order. */
export async function mapLimited<I, O>(inputs: readonly I[], limit: number, task: (input: I) => Promise<O>): Promise<O[]> {
  const out: O[] = new Array(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const i = next++;
      out[i] = await task(inputs[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return out;
}
