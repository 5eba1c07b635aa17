import { STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { AccessDeniedException } from "../../../shared/model/errors.ts";
import { roleCredentials } from "../../../shared/runtime/role-credentials.ts";
import { startFakeSts } from "../../fakes/sts-server.ts";

/** The one cache of tenants' role credentials (reads and alert actions alike), against a local STS. */
const KEY = "AKIAVIGILFUNCTION000";
const ROLE = "arn:aws:iam::111111111111:role/vigil";
const MINUTE = 60_000;

async function setup() {
  const sts = await startFakeSts({ [ROLE]: { trusts: [KEY], externalId: "111111111111" } }, { lifetimeMs: 60 * MINUTE });
  const client = new STSClient({ endpoint: sts.endpoint, region: "us-east-1", credentials: { accessKeyId: KEY, secretAccessKey: "s" }, maxAttempts: 1 });
  let offset = 0;
  const roles = roleCredentials({ sts: async () => client, clock: () => Date.now() + offset });
  return { sts, roles, advance: (ms: number) => void (offset += ms) };
}

describe("roleCredentials", () => {
  it("keeps a role's credentials per account until 5 minutes before they expire, one AssumeRole for callers at once", async () => {
    const { sts, roles, advance } = await setup();
    const first = await Promise.all([1, 2, 3].map(() => roles(ROLE, "111111111111")()));
    expect(sts.calls).toHaveLength(1);
    expect(new Set(first.map((c) => c.accessKeyId))).toEqual(new Set([sts.calls[0]!.issued!.accessKeyId]));
    advance(54 * MINUTE);
    expect((await roles(ROLE, "111111111111")()).accessKeyId).toBe(first[0]!.accessKeyId);
    advance(2 * MINUTE);
    const renewed = await roles(ROLE, "111111111111")();
    expect(sts.calls).toHaveLength(2);
    expect(renewed.accessKeyId).toBe(sts.calls[1]!.issued!.accessKeyId);
    expect(renewed.accessKeyId).not.toBe(first[0]!.accessKeyId);
  });

  it("asks for another account with that account's ExternalId, and keeps no refusal", async () => {
    const { sts, roles } = await setup();
    for (let i = 0; i < 2; i++) {
      const refused = await roles(ROLE, "222222222222")().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AccessDeniedException);
      expect((refused as Error).message).toBe(`Vigil could not assume the role ${ROLE} for account 222222222222: its trust policy must let Vigil assume it with sts:ExternalId 222222222222`);
    }
    expect(sts.calls.map((c) => [c.externalId, c.sessionName, !!c.issued])).toEqual([
      ["222222222222", "vigil-222222222222", false],
      ["222222222222", "vigil-222222222222", false],
    ]);
  });
});
