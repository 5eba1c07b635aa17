import { describe, expect, it } from "vitest";
import { DETAIL_CHARS, failed } from "../../../shared/alerts/channel.ts";

describe("a channel's failure", () => {
  it("keeps its detail to DETAIL_CHARS characters, as a parked delivery carries it and a dead letter's schema takes it", () => {
    const long = failed(true, "AWS", `InternalFailure: ${"x".repeat(10_000)}`, 2_000);
    expect(long).toMatchObject({ ok: false, retryable: true, reason: "AWS", retryAfterMs: 2_000 });
    expect(long.ok === false && long.detail).toBe(`InternalFailure: ${"x".repeat(DETAIL_CHARS - 17)}`);
    expect(failed(false, "HTTP_STATUS", "HTTP 410")).toEqual({ ok: false, retryable: false, reason: "HTTP_STATUS", detail: "HTTP 410" });
  });

  it("never cuts a detail inside a surrogate pair", () => {
    const emoji = failed(true, "AWS", `${"x".repeat(DETAIL_CHARS - 1)}😀 and more`);
    expect(emoji.ok === false && emoji.detail).toBe("x".repeat(DETAIL_CHARS - 1));
    expect(emoji.ok === false && /[\uD800-\uDBFF]$/.test(emoji.detail)).toBe(false);
  });
});
