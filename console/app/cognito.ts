import type { ConsoleConfig, SessionInfo } from "./wire.ts";

/**
 * Sign-in on AWS: Cognito's managed login with the authorization code flow and PKCE (no
 * client secret in a page). The ID token it gives carries the tenant's account as a claim;
 * the HTTP API's JWT authorizer checks it on every call, and the api function checks it
 * again with aws-jwt-verify. The token lives in this tab's sessionStorage (gone when the tab
 * closes), and is sent as a bearer header, never as a cookie, so no other site can make the
 * browser send it.
 */

type Cognito = Extract<ConsoleConfig, { SignIn: "cognito" }>;

const TOKEN = "vigil.idToken";
const PENDING = "vigil.pkce";
export const CALLBACK = "/console/callback";

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = (n: number) => base64url(crypto.getRandomValues(new Uint8Array(n)));

function claimsOf(token: string): Record<string, unknown> | undefined {
  try {
    const payload = token.split(".")[1] ?? "";
    return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The session the tab's token makes, while it has not expired (the server checks it again). */
export function tokenSession(): SessionInfo | undefined {
  const token = sessionStorage.getItem(TOKEN);
  const claims = token ? claimsOf(token) : undefined;
  if (!token || !claims || typeof claims["exp"] !== "number" || claims["exp"] * 1000 <= Date.now()) return undefined;
  const tenant = typeof claims["custom:vigil_account"] === "string" ? claims["custom:vigil_account"] : "";
  const who = typeof claims["email"] === "string" ? claims["email"] : typeof claims["cognito:username"] === "string" ? claims["cognito:username"] : "";
  return { Tenant: tenant, AccessKeyId: who, CsrfToken: "", ExpiresAt: claims["exp"], IdToken: token };
}

/** Sends the browser to Cognito's sign-in page, keeping the PKCE verifier for the way back. */
export async function startSignIn(c: Cognito): Promise<void> {
  const verifier = random(48);
  const state = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const query = new URLSearchParams({ response_type: "code", client_id: c.ClientId, redirect_uri: `${location.origin}${CALLBACK}`, scope: "openid email", state, code_challenge_method: "S256", code_challenge: challenge });
  location.assign(`https://${c.Domain}/oauth2/authorize?${query}`);
}

/** On the way back from Cognito: the code exchanged for tokens, if the state is ours. */
export async function finishSignIn(c: Cognito, query: URLSearchParams): Promise<SessionInfo> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "{}") as { verifier?: string; state?: string };
  sessionStorage.removeItem(PENDING);
  const code = query.get("code");
  if (!code || !pending.verifier || query.get("state") !== pending.state) throw new Error(query.get("error_description") ?? "The sign-in did not come back from this console: sign in again");
  const res = await fetch(`https://${c.Domain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: c.ClientId, code, redirect_uri: `${location.origin}${CALLBACK}`, code_verifier: pending.verifier }),
  });
  if (!res.ok) throw new Error(`Cognito refused the sign-in (HTTP ${res.status}): sign in again`);
  const { id_token: idToken } = (await res.json()) as { id_token?: string };
  if (!idToken) throw new Error("Cognito gave no ID token: sign in again");
  sessionStorage.setItem(TOKEN, idToken);
  const session = tokenSession();
  if (!session) throw new Error("The ID token Cognito gave has expired: sign in again");
  return session;
}

/** Forgets the tab's token: the server refused it, or the user signs out. */
export const forgetToken = () => sessionStorage.removeItem(TOKEN);

/** Forgets the token and ends Cognito's own session too. */
export function endSession(c: Cognito): void {
  forgetToken();
  location.assign(`https://${c.Domain}/logout?${new URLSearchParams({ client_id: c.ClientId, logout_uri: `${location.origin}/console/` })}`);
}
