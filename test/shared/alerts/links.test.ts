import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LINK_LIFETIME_S, linkRefusal, signedQuery } from "../../../shared/alerts/links.ts";

const NOW = Date.UTC(2026, 10, 23);
const SECRET = "k".repeat(32);
const PATH = "/anomaly-groups/4f1c2d3e-aaaa-4bbb-8ccc-0123456789ab/feedback";

describe("signed links", () => {
  it("open for their path until they expire, and for nothing else", () => {
    const q = new URLSearchParams(signedQuery(SECRET, PATH, NOW));
    expect(linkRefusal(SECRET, PATH, q, NOW)).toBeUndefined();
    expect(linkRefusal(SECRET, PATH, q, NOW + (LINK_LIFETIME_S - 1) * 1000)).toBeUndefined();
    expect(linkRefusal(SECRET, PATH, q, NOW + (LINK_LIFETIME_S + 1) * 1000)).toMatch(/expired/);
    expect(linkRefusal(SECRET, PATH.replace("4f1c", "5f1c"), q, NOW)).toMatch(/does not match/);
    expect(linkRefusal("another key of at least 32 chars!", PATH, q, NOW)).toMatch(/does not match/);
    const later = new URLSearchParams(q);
    later.set("expires", String(Number(q.get("expires")) + 86_400));
    expect(linkRefusal(SECRET, PATH, later, NOW)).toMatch(/does not match/);
  });

  it("refuse any query that is not one they made", () => {
    fc.assert(
      fc.property(fc.string(), (query) => {
        expect(linkRefusal(SECRET, PATH, new URLSearchParams(query), NOW)).toBeDefined();
      }),
    );
  });
});
