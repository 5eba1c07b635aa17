import { describe, expect, it } from "vitest";
import { asRole } from "../../../shared/runtime/aws.ts";
import { ROLE_CACHE_ENTRIES } from "../../../shared/runtime/lru.ts";
import type { RoleCredentials } from "../../../shared/runtime/role-credentials.ts";

describe("asRole", () => {
  it("keeps one client per region, role and account, the most recently used only", () => {
    const made: string[] = [];
    const roles: RoleCredentials = () => () => Promise.reject(new Error("not asked here"));
    const client = asRole((region) => made.push(region) && { region }, "us-east-1", roles);
    const topic = (i: number) => `arn:aws:sns:region-${i}:111111111111:t`;
    const role = "arn:aws:iam::111111111111:role/r";
    const first = client(topic(0), role, "111111111111");
    expect(client(topic(0), role, "111111111111")).toBe(first);
    for (let i = 1; i <= ROLE_CACHE_ENTRIES; i++) client(topic(i), role, "111111111111");
    expect(made).toHaveLength(ROLE_CACHE_ENTRIES + 1);
    // The newest is kept; the oldest was dropped to make room, and is made anew.
    client(topic(ROLE_CACHE_ENTRIES), role, "111111111111");
    expect(made).toHaveLength(ROLE_CACHE_ENTRIES + 1);
    expect(client(topic(0), role, "111111111111")).not.toBe(first);
    expect(made).toHaveLength(ROLE_CACHE_ENTRIES + 2);
  });
});
