import { describe, expect, it } from "vitest";
import { ConsoleSessions, type EdgeRequest } from "../../shared/api/session.ts";

/**
 * Finding: console sessions had one cap for all tenants, the oldest session going first, so
 * one tenant signing in over and over (a loop of POSTs with its own key pair) signed every
 * other tenant's people out. Each tenant then got a cap of its own, past which its own oldest
 * session ends, and the bound on all sessions together refused a tenant holding none: some
 * tenants at their own caps locked every other tenant out. Now the bound on all ends the
 * oldest session of the tenant holding the most, the signing-in tenant's own when it holds as
 * many as any: a tenant holding fewer than the largest holder always signs in, and no tenant
 * brings another below as many as it holds itself.
 */
const keys = new Map([
  ["AKEY", { secretAccessKey: "a-secret", tenant: "a" }],
  ["BKEY", { secretAccessKey: "b-secret", tenant: "b" }],
  ["CKEY", { secretAccessKey: "c-secret", tenant: "c" }],
  ["DKEY", { secretAccessKey: "d-secret", tenant: "d" }],
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

  it("ends a tenant's own oldest at its cap; at the bound on all, a tenant holding none signs in, ending the largest holder's oldest", () => {
    const sessions = new ConsoleSessions((k) => keys.get(k), { now: () => 0, maxSessions: 4, maxSessionsPerTenant: 3 });
    const [a1, a2, a3] = [signIn(sessions, "AKEY"), signIn(sessions, "AKEY"), signIn(sessions, "AKEY")];
    // a's fourth: its own cap of 3 ends its first.
    const a4 = signIn(sessions, "AKEY");
    expect([a1, a2, a3, a4].map((s) => tenantOf(sessions, s.cookie))).toEqual([undefined, "a", "a", "a"]);
    // b's first fills the bound on all (4): a at its own cap and b lock no one out.
    const b1 = signIn(sessions, "BKEY");
    // c holds none: a, the largest holder (3), loses its oldest.
    const c1 = signIn(sessions, "CKEY");
    expect(c1.status).toBe(200);
    expect([a2, a3, a4, b1, c1].map((s) => tenantOf(sessions, s.cookie))).toEqual([undefined, "a", "a", "b", "c"]);
    // d too: a still holds the most (2).
    const d1 = signIn(sessions, "DKEY");
    expect([a3, a4, b1, c1, d1].map((s) => tenantOf(sessions, s.cookie))).toEqual([undefined, "a", "b", "c", "d"]);
    // All hold one: c, holding as many as any, ends its own oldest and no one else's.
    const c2 = signIn(sessions, "CKEY");
    expect([a4, b1, c1, c2, d1].map((s) => tenantOf(sessions, s.cookie))).toEqual(["a", "b", undefined, "c", "d"]);
  });

  it("a tenant signing in over and over brings the others down to its own count, no lower, then ends its own", () => {
    const sessions = new ConsoleSessions((k) => keys.get(k), { now: () => 0, maxSessions: 6, maxSessionsPerTenant: 6 });
    const b = [signIn(sessions, "BKEY"), signIn(sessions, "BKEY"), signIn(sessions, "BKEY")];
    const c = [signIn(sessions, "CKEY"), signIn(sessions, "CKEY"), signIn(sessions, "CKEY")];
    const a: { status: number; cookie: string }[] = [];
    for (let i = 0; i < 100; i++) a.push(signIn(sessions, "AKEY"));
    expect(a.every((s) => s.status === 200)).toBe(true);
    // Each keeps its fair share, 2 of 6: b and c their two newest, a its last two.
    expect(b.map((s) => tenantOf(sessions, s.cookie))).toEqual([undefined, "b", "b"]);
    expect(c.map((s) => tenantOf(sessions, s.cookie))).toEqual([undefined, "c", "c"]);
    expect(a.map((s) => tenantOf(sessions, s.cookie)).filter((t) => t === "a")).toHaveLength(2);
    expect([a[98], a[99]].map((s) => tenantOf(sessions, s!.cookie))).toEqual(["a", "a"]);
  });

  it("a tenant holding fewer takes room from the largest holder only until it holds as many", () => {
    const sessions = new ConsoleSessions((k) => keys.get(k), { now: () => 0, maxSessions: 3, maxSessionsPerTenant: 3 });
    const [a1, b1, b2] = [signIn(sessions, "AKEY"), signIn(sessions, "BKEY"), signIn(sessions, "BKEY")];
    // a holds 1, b 2: a's second ends b's oldest, not a's own.
    const a2 = signIn(sessions, "AKEY");
    expect([a1, a2, b1, b2].map((s) => tenantOf(sessions, s.cookie))).toEqual(["a", "a", undefined, "b"]);
    // Now a is the largest holder: its third ends its own oldest.
    const a3 = signIn(sessions, "AKEY");
    expect([a1, a2, a3, b2].map((s) => tenantOf(sessions, s.cookie))).toEqual([undefined, "a", "a", "b"]);
  });

  it("in any order of sign-ins and sign-outs, refuses none, and ends another tenant's session only when that tenant holds more", () => {
    const tenants = ["AKEY", "BKEY", "CKEY", "DKEY"];
    const sessions = new ConsoleSessions((k) => keys.get(k), { now: () => 0, maxSessions: 7, maxSessionsPerTenant: 4 });
    // A seeded sequence (mulberry32): the same order of sign-ins and sign-outs each run.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let atBound = 0;
    let live: { key: string; cookie: string }[] = [];
    const counts = () => new Map(tenants.map((k) => [k, live.filter((s) => s.key === k).length]));
    for (let step = 0; step < 2_000; step++) {
      if (live.length && next(4) === 0) {
        // A sign-out, of any live session.
        const [gone] = live.splice(next(live.length), 1);
        const csrf = sessions.sessionOf({ headers: { cookie: gone!.cookie }, secure: false })!.CsrfToken;
        sessions.handle({ ...request(gone!.key), method: "DELETE", body: "", headers: { cookie: gone!.cookie, "x-vigil-csrf": csrf } });
        continue;
      }
      const key = tenants[next(tenants.length)]!;
      const before = counts();
      const signed = signIn(sessions, key);
      expect(signed.status).toBe(200);
      const ended = live.filter((s) => tenantOf(sessions, s.cookie) === undefined);
      expect(ended.length).toBeLessThanOrEqual(1);
      // At the bound on all exactly one ends; at the tenant's own cap, its own.
      if (live.length === 7 || before.get(key) === 4) expect(ended).toHaveLength(1);
      if (live.length === 7) atBound++;
      for (const e of ended) {
        if (e.key !== key) expect(before.get(e.key)!).toBeGreaterThan(before.get(key)!);
        // Its own only at its cap, or as the largest holder.
        else if (before.get(key)! < 4) expect(before.get(key)).toBe(Math.max(...before.values()));
      }
      live = [...live.filter((s) => !ended.includes(s)), { key, cookie: signed.cookie }];
      expect(live.length).toBeLessThanOrEqual(7);
      expect(Math.max(...counts().values())).toBeLessThanOrEqual(4);
    }
    // The bound on all was met often enough to tell.
    expect(atBound).toBeGreaterThan(200);
  });

  it("counts expired sessions out, idle or past their lifetime, whatever order they were signed in", () => {
    let now = 0;
    const sessions = new ConsoleSessions((k) => keys.get(k), { now: () => now, maxSessions: 3, maxSessionsPerTenant: 3, idleMs: 1_000, lifetimeMs: 3_000 });
    const [a1, a2, b1] = [signIn(sessions, "AKEY"), signIn(sessions, "AKEY"), signIn(sessions, "BKEY")];
    // a1 and b1 are used again; a2, signed in after a1, is left idle.
    now = 500;
    expect([tenantOf(sessions, a1.cookie), tenantOf(sessions, b1.cookie)]).toEqual(["a", "b"]);
    now = 1_200;
    // a2 is gone idle, so c's sign-in finds room without ending a1 or b1.
    const c1 = signIn(sessions, "CKEY");
    expect([a1, b1, c1].map((s) => tenantOf(sessions, s.cookie))).toEqual(["a", "b", "c"]);
    now = 2_000;
    expect([a1, b1, c1].map((s) => tenantOf(sessions, s.cookie))).toEqual(["a", "b", "c"]);
    now = 2_900;
    expect([c1, a1, b1].map((s) => tenantOf(sessions, s.cookie))).toEqual(["c", "a", "b"]);
    now = 3_100;
    // a1 and b1 are past their lifetime though used a moment ago: d's two sessions end neither c1 nor each other.
    const [d1, d2] = [signIn(sessions, "DKEY"), signIn(sessions, "DKEY")];
    expect([c1, d1, d2].map((s) => tenantOf(sessions, s.cookie))).toEqual(["c", "d", "d"]);
  });
});
