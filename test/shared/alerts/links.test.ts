import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkLink, LINK_LIFETIME_S, linkKeyId, signedQuery } from "../../../shared/alerts/links.ts";

const NOW = Date.UTC(2026, 10, 23);
const SECRET = "k".repeat(32);
const ACCOUNT = "123456789012";
const PATH = "/anomaly-groups/4f1c2d3e-aaaa-4bbb-8ccc-0123456789ab/feedback";
const refusal = (secret: string, path: string, q: URLSearchParams, now: number) => {
  const c = checkLink(secret, path, q, now);
  return c.ok ? undefined : c.reason;
};

describe("signed links", () => {
  it("open for their path and account until they expire, and for nothing else", () => {
    const q = new URLSearchParams(signedQuery(SECRET, PATH, ACCOUNT, NOW));
    expect(checkLink(SECRET, PATH, q, NOW)).toEqual({ ok: true, accountId: ACCOUNT });
    expect(refusal(SECRET, PATH, q, NOW + (LINK_LIFETIME_S - 1) * 1000)).toBeUndefined();
    expect(refusal(SECRET, PATH, q, NOW + (LINK_LIFETIME_S + 1) * 1000)).toMatch(/expired/);
    expect(refusal(SECRET, PATH.replace("4f1c", "5f1c"), q, NOW)).toMatch(/does not match/);
    const later = new URLSearchParams(q);
    later.set("expires", String(Number(q.get("expires")) + 86_400));
    expect(refusal(SECRET, PATH, later, NOW)).toMatch(/does not match/);
    const elsewhere = new URLSearchParams(q);
    elsewhere.set("account", "210987654321");
    expect(refusal(SECRET, PATH, elsewhere, NOW)).toMatch(/does not match/);
  });

  it("name their key: a replaced key's links are refused as such, and a forged key id does not help", () => {
    const q = new URLSearchParams(signedQuery(SECRET, PATH, ACCOUNT, NOW));
    expect(q.get("key")).toBe(linkKeyId(SECRET));
    const next = "another key of at least 32 chars!";
    expect(refusal(next, PATH, q, NOW)).toMatch(/signed with a key that has since been replaced/);
    const relabelled = new URLSearchParams(q);
    relabelled.set("key", linkKeyId(next));
    expect(refusal(next, PATH, relabelled, NOW)).toMatch(/does not match/);
  });

  it("refuse any query that is not one they made", () => {
    fc.assert(
      fc.property(fc.string(), (query) => {
        expect(checkLink(SECRET, PATH, new URLSearchParams(query), NOW).ok).toBe(false);
      }),
    );
  });
});
