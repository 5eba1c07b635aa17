import { describe, expect, it } from "vitest";
import { groupPage, wantsHtml } from "../../../shared/api/pages.ts";

const HOSTILE = ['"><img src=x onerror=alert(1)></td><script>alert(2)</script>', "</table><a href=javascript:alert(3)>x</a>", "&amp;<!--"];

describe("an alert link's group page", () => {
  it("escapes every value of the tenant's data, and lists at most 50 series, counting the rest", () => {
    const series = Array.from({ length: 60 }, (_, i) => ({ measure: i === 0 ? HOSTILE[1]! : "revenue", dimensions: { marketplace: HOSTILE[i % HOSTILE.length]!, [HOSTILE[2]!]: "x" } }));
    const page = groupPage({ anomalyDetectorArn: `arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:${HOSTILE[0]}`, anomalyGroup: { AnomalyGroupId: "0b0c7d9e-1f1e-4a5b-8c7d-6e5f4a3b2c1d", AnomalyGroupScore: 81.2, PrimaryMetricName: HOSTILE[0]!, StartTime: "2021-03-01T20:00:00Z", EndTime: "2021-03-01T23:00:00Z" }, series });
    expect(page.status).toBe(200);
    for (const bad of ["<script", "<img", "<a href=javascript", "</table><a", "<!--"]) expect(page.body).not.toContain(bad);
    expect(page.body).toContain("&lt;script&gt;alert(2)&lt;/script&gt;");
    expect(page.body.match(/<tr><td>/g)).toHaveLength(50);
    expect(page.body).toContain("and 10 more series");
    // The console link carries the detector and group as query values, escaped as an attribute.
    const href = /<a href="([^"]+)">Open it in the console<\/a>/.exec(page.body)![1]!.replaceAll("&amp;", "&");
    expect(new URL(href, "http://localhost").searchParams.get("detector")).toContain(HOSTILE[0]);
    expect(page.headers).toMatchObject({ "referrer-policy": "no-referrer", "cache-control": "private, no-store", vary: "Accept" });
  });

  it("is chosen by a browser's Accept, read no further than its first 1,024 characters, and never at q=0", () => {
    expect(wantsHtml("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")).toBe(true);
    expect(wantsHtml("*/*")).toBe(false);
    expect(wantsHtml(undefined)).toBe(false);
    expect(wantsHtml("text/html;q=0, application/json")).toBe(false);
    expect(wantsHtml("TEXT/HTML; q=0.5")).toBe(true);
    // A header of any size is read as its first 1,024 characters: what comes after is not looked at.
    expect(wantsHtml(`${"x/y, ".repeat(200_000)}text/html`)).toBe(false);
  });
});
