import { describe, expect, it } from "vitest";
import { LINK_LIFETIME_S, signedQuery } from "../../../shared/alerts/links.ts";
import { verifiedLink } from "../../../shared/app/links.ts";

const SECRET = "s".repeat(32);
const ACCOUNT = "123456789012";
const PATH = "/anomaly-groups/4f1c2d3e-aaaa-4bbb-8ccc-0123456789ab";
const REAL_NOW = Date.UTC(2026, 11, 2);
/** A simulation's clock (the demo's, `vigil serve --clock-start`): years before the real one. */
const SIMULATED_NOW = Date.UTC(2021, 2, 1);

const services = (real: number) => ({ alertSettings: { linkSecret: SECRET }, linkClock: () => real, clock: () => SIMULATED_NOW }) as unknown as Parameters<typeof verifiedLink>[0];

describe("verifiedLink", () => {
  it("expires a link by the real clock that signed it, not by a simulation's", () => {
    const signedNow = new URLSearchParams(signedQuery(SECRET, PATH, ACCOUNT, REAL_NOW));
    expect(verifiedLink(services(REAL_NOW), PATH, signedNow)).toEqual({ ok: true, accountId: ACCOUNT });
    const signedLongAgo = new URLSearchParams(signedQuery(SECRET, PATH, ACCOUNT, REAL_NOW - (LINK_LIFETIME_S + 60) * 1000));
    expect(verifiedLink(services(REAL_NOW), PATH, signedLongAgo)).toEqual({ ok: false, reason: "the link has expired" });
  });
});
