import { STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { classifyAwsError } from "../../../shared/channels/common/aws-errors.ts";
import { AccessDeniedException, InternalServerException } from "../../../shared/model/errors.ts";
import { ROLE_CACHE_ENTRIES } from "../../../shared/runtime/lru.ts";
import { roleCredentials } from "../../../shared/runtime/role-credentials.ts";
import type { Role } from "../../fakes/sts-server.ts";
import { startFakeSts } from "../../fakes/sts-server.ts";

/** The one cache of tenants' role credentials (reads and alert actions alike), against a local STS. */
const KEY = "AKIAVIGILFUNCTION000";
const ROLE = "arn:aws:iam::111111111111:role/vigil";
/** A role of account 222222222222 whose trust policy asks for another ExternalId. */
const STRICT = "arn:aws:iam::222222222222:role/vigil";
const MINUTE = 60_000;

async function setup(more: Record<string, Role> = {}) {
  const sts = await startFakeSts({ [ROLE]: { trusts: [KEY], externalId: "111111111111" }, [STRICT]: { trusts: [KEY], externalId: "333333333333" }, ...more }, { lifetimeMs: 60 * MINUTE });
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

  it("asks with the account's ExternalId, and keeps no refusal", async () => {
    const { sts, roles } = await setup();
    for (let i = 0; i < 2; i++) {
      const refused = await roles(STRICT, "222222222222")().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AccessDeniedException);
      expect((refused as Error).message).toBe(`Vigil could not assume the role ${STRICT} for account 222222222222: its trust policy must let Vigil assume it with sts:ExternalId 222222222222`);
    }
    expect(sts.calls.map((c) => [c.externalId, c.sessionName, !!c.issued])).toEqual([
      ["222222222222", "vigil-222222222222", false],
      ["222222222222", "vigil-222222222222", false],
    ]);
  });

  it("refuses a role of another account before STS is asked", async () => {
    const { sts, roles } = await setup();
    const refused = await roles(ROLE, "222222222222")().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AccessDeniedException);
    expect((refused as Error).message).toBe(`Vigil does not assume the role ${ROLE} for account 222222222222: it is not a role of that account; name a role of account 222222222222`);
    expect(sts.calls).toEqual([]);
  });

  it("says Vigil's own credentials or region were refused, not the role's trust policy, for a 403 other than AccessDenied, and keeps it worth another try", async () => {
    const codes = ["InvalidClientTokenId", "SignatureDoesNotMatch", "RegionDisabledException"];
    const roleOf = (code: string) => `arn:aws:iam::111111111111:role/${code}`;
    const { roles } = await setup(Object.fromEntries(codes.map((code) => [roleOf(code), { trusts: [KEY], externalId: "111111111111", fails: { status: 403, code } }])));
    for (const code of codes) {
      const refused = await roles(roleOf(code), "111111111111")().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InternalServerException);
      expect((refused as Error).message).toBe(`STS refused Vigil's own credentials while assuming the role ${roleOf(code)} for account 111111111111 (${code}): the operator must fix Vigil's credentials, clock or region; the role is not at fault`);
      // STS's message (the fake's "<code> for <role>"; RegionDisabledException's names Vigil's account) reaches no tenant's failure reason.
      expect((refused as Error).message).not.toContain(`${code} for arn:`);
      expect(classifyAwsError(refused)).toMatchObject({ ok: false, retryable: true });
    }
    const denied = await roles(STRICT, "222222222222")().catch((e: unknown) => e);
    expect(classifyAwsError(denied)).toMatchObject({ ok: false, retryable: false });
  });

  it("keeps the most recently used roles' credentials only", async () => {
    const many = Array.from({ length: ROLE_CACHE_ENTRIES + 1 }, (_, i) => `arn:aws:iam::111111111111:role/r${i}`);
    const { sts, roles } = await setup(Object.fromEntries(many.map((r) => [r, { trusts: [KEY], externalId: "111111111111" }])));
    for (const role of many) await roles(role, "111111111111")();
    expect(sts.calls).toHaveLength(many.length);
    // The newest is still held; the oldest was dropped to make room and is assumed again.
    await roles(many.at(-1)!, "111111111111")();
    expect(sts.calls).toHaveLength(many.length);
    await roles(many[0]!, "111111111111")();
    expect(sts.calls.map((c) => c.roleArn)).toEqual([...many, many[0]]);
  });
});
