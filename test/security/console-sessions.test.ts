import { describe, expect, it } from "vitest";
import { ConsoleSessions, type EdgeRequest } from "../../shared/api/session.ts";

/**
 * Finding: console sessions had one cap for all tenants, the oldest session going first, so
 * one tenant signing in over and over (a loop of POSTs with its own key pair) signed every
 * other tenant's people out. Now each tenant has a cap of its own, past which its own oldest
 * session ends; the bound on all sessions together ends the signing-in tenant's own oldest,
 * and when all are other tenants' it refuses the sign-in, never ending theirs.
 */
const keys = new Map([
  ["AKEY", { secretAccessKey: "a-secret", tenant: "a" }],
  ["BKEY", { secretAccessKey: "b-secret", tenant: "b" }],
  ["CKEY", { secretAccessKey: "c-secret", tenant: "c" }],
]);
const request = (key: string): EdgeRequest => ({
  method: "POST",
  path: "/console/session",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ AccessKeyId: key, SecretAccessKey: keys.get(key)!.secretAccessKey }),
  secure: false,
  requestId: "r",
});

/** Signs in with `key`: the answer's status and error, and the cookie it set. */
function signIn(sessions: ConsoleSessions, key: string): { status: number; code?: string; cookie: string } {
  const res = sessions.handle(request(key))!;
  return { status: res.status, code: (JSON.parse(res.body) as { __type?: string }).__type, cookie: res.headers["set-cookie"]?.split(";")[0] ?? "" };
}
const tenantOf = (sessions: ConsoleSessions, cookie: string) => sessions.sessionOf({ headers: { cookie }, secure: false })?.Tenant;

describe("console sessions, one tenant signing in without end", () => {
  it("signs no other tenant's people out, with the default caps", () => {
    const sessions = new ConsoleSessions((k) => keys.get(k), { now: () => 1_000_000 });
    const b = signIn(sessions, "BKEY");
    const first = signIn(sessions, "AKEY");
    let last = first;
    // More sign-ins than all sessions together may be.
    for (let i = 0; i < 20_001; i++) last = signIn(sessions, "AKEY");
    expect(last.status).toBe(200);
    expect(tenantOf(sessions, b.cookie)).toBe("b");
    // The tenant that signed in again and again lost its own oldest.
    expect(tenantOf(sessions, first.cookie)).toBeUndefined();
    expect(tenantOf(sessions, last.cookie)).toBe("a");
  });

  it("ends a tenant's own oldest at its cap and at the bound on all; refuses a tenant with none when the others fill it", () => {
    const sessions = new ConsoleSessions((k) => keys.get(k), { now: () => 0, maxSessions: 4, maxSessionsPerTenant: 3 });
    const [a1, a2, a3] = [signIn(sessions, "AKEY"), signIn(sessions, "AKEY"), signIn(sessions, "AKEY")];
    // a's fourth: its own cap of 3 ends its first.
    const a4 = signIn(sessions, "AKEY");
    expect([a1, a2, a3, a4].map((s) => tenantOf(sessions, s.cookie))).toEqual([undefined, "a", "a", "a"]);
    // b's first fills the bound on all (4); b's second ends b's own first, not one of a's.
    const b1 = signIn(sessions, "BKEY");
    const b2 = signIn(sessions, "BKEY");
    expect([a2, a3, a4, b1, b2].map((s) => tenantOf(sessions, s.cookie))).toEqual(["a", "a", "a", undefined, "b"]);
    // c has none and all 4 are others': refused, and no one is signed out.
    expect(signIn(sessions, "CKEY")).toMatchObject({ status: 429, code: "TooManyRequestsException", cookie: "" });
    expect([a2, a3, a4, b2].map((s) => tenantOf(sessions, s.cookie))).toEqual(["a", "a", "a", "b"]);
    // A session that ends makes room for c.
    const signOut = sessions.handle({ ...request("BKEY"), method: "DELETE", body: "", headers: { cookie: b2.cookie } })!;
    expect(signOut.status).toBe(403); // a live session is ended only by its own page (its CSRF token)
    const csrf = sessions.sessionOf({ headers: { cookie: b2.cookie }, secure: false })!.CsrfToken;
    expect(sessions.handle({ ...request("BKEY"), method: "DELETE", body: "", headers: { cookie: b2.cookie, "x-vigil-csrf": csrf } })!.status).toBe(200);
    const c1 = signIn(sessions, "CKEY");
    expect(tenantOf(sessions, c1.cookie)).toBe("c");
    expect([a2, a3, a4].map((s) => tenantOf(sessions, s.cookie))).toEqual(["a", "a", "a"]);
  });

  it("counts a tenant's expired sessions out: they make room for it and for others", () => {
    let now = 0;
    const sessions = new ConsoleSessions((k) => keys.get(k), { now: () => now, maxSessions: 2, maxSessionsPerTenant: 2, idleMs: 1_000 });
    signIn(sessions, "AKEY");
    signIn(sessions, "AKEY");
    expect(signIn(sessions, "BKEY").status).toBe(429);
    now = 2_000;
    const b = signIn(sessions, "BKEY");
    const a = signIn(sessions, "AKEY");
    expect([tenantOf(sessions, b.cookie), tenantOf(sessions, a.cookie)]).toEqual(["b", "a"]);
  });
});
