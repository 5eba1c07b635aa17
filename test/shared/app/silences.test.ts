import { describe, expect, it } from "vitest";
import { createDetector, createSilence, expireSilence, findSilences, OPERATOR, updateSilence } from "../../../shared/app/index.ts";
import { SILENCE_KEPT_MS } from "../../../shared/catalog/catalog.ts";
import { ConflictException, ResourceNotFoundException, ServiceQuotaExceededException, ValidationException } from "../../../shared/model/errors.ts";
import { L4M_QUOTAS } from "../../../shared/model/quotas.ts";
import { HOUR, localAt, T0, tempDir } from "../../builders.ts";

const OTHER = { tenant: "other", accountId: "123456789012" };
const at = (ms: number) => new Date(ms).toISOString();

describe("silences: created, edited and expired by their tenant only", () => {
  it("edits a silence's window, reason and matchers, expires it, and then keeps it as it was", async () => {
    let now = T0;
    const s = localAt(await tempDir(), () => now);
    const d = await createDetector(s, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const silence = await createSilence(s, OPERATOR, { AnomalyDetectorArn: d.AnomalyDetectorArn, EndsAt: at(T0 + 2 * HOUR), Reason: "deploy" });
    const edited = await updateSilence(s, OPERATOR, { SilenceId: silence.SilenceId, EndsAt: at(T0 + 5 * HOUR), Reason: "deploy, longer", MetricName: "views" });
    expect(edited).toEqual({ ...silence, EndsAt: at(T0 + 5 * HOUR), Reason: "deploy, longer", MetricName: "views" });
    expect(await findSilences(s, OPERATOR, { AnomalyDetectorArn: d.AnomalyDetectorArn, Active: true })).toEqual([edited]);
    // An edit is checked as a new silence would be.
    await expect(updateSilence(s, OPERATOR, { SilenceId: silence.SilenceId, EndsAt: at(T0 - HOUR) })).rejects.toBeInstanceOf(ValidationException);
    await expect(updateSilence(s, OPERATOR, { SilenceId: silence.SilenceId, AnomalyDetectorArn: d.AnomalyDetectorArn.replace("shop", "nope") })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(updateSilence(s, OPERATOR, { SilenceId: silence.SilenceId, Bogus: 1 })).rejects.toBeInstanceOf(ValidationException);
    // Another tenant can neither see, edit nor expire it.
    expect(await findSilences(s, OTHER, {})).toEqual([]);
    await expect(updateSilence(s, OTHER, { SilenceId: silence.SilenceId, Reason: "mine now" })).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(expireSilence(s, OTHER, silence.SilenceId)).rejects.toBeInstanceOf(ResourceNotFoundException);
    now = T0 + HOUR;
    const expired = await expireSilence(s, OPERATOR, silence.SilenceId);
    expect(expired.EndsAt).toBe(at(T0 + HOUR));
    expect(await findSilences(s, OPERATOR, { Active: true })).toEqual([]);
    expect(await findSilences(s, OPERATOR, { Active: false })).toEqual([expired]);
    await expect(updateSilence(s, OPERATOR, { SilenceId: silence.SilenceId, EndsAt: at(T0 + 9 * HOUR) })).rejects.toBeInstanceOf(ConflictException);
  });

  it("holds an account to SilencesPerAccount, ended silences included until they are dropped 30 days after they end; another account is not held back", async () => {
    let now = T0;
    const s = localAt(await tempDir(), () => now, { quotas: { ...L4M_QUOTAS, silencesPerAccount: 3 } });
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createSilence(s, OPERATOR, { MetricName: "views", EndsAt: at(T0 + HOUR), Reason: `r${i}` }));
    const refused = await createSilence(s, OPERATOR, { MetricName: "views", EndsAt: at(T0 + HOUR), Reason: "one too many" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ServiceQuotaExceededException);
    expect((refused as ServiceQuotaExceededException).quotaCode).toBe("SilencesPerAccount");
    expect(await createSilence(s, OTHER, { MetricName: "views", EndsAt: at(T0 + HOUR), Reason: "theirs" })).toMatchObject({ Reason: "theirs" });
    // Ended, they still count (and can be read) for 30 days; then they are dropped and make room.
    now = T0 + 2 * HOUR;
    await expect(createSilence(s, OPERATOR, { MetricName: "views", EndsAt: at(now + HOUR), Reason: "still full" })).rejects.toBeInstanceOf(ServiceQuotaExceededException);
    expect(await findSilences(s, OPERATOR, { Active: false })).toHaveLength(3);
    now = T0 + HOUR + SILENCE_KEPT_MS + 1;
    expect(await createSilence(s, OPERATOR, { MetricName: "views", EndsAt: at(now + HOUR), Reason: "room again" })).toMatchObject({ Reason: "room again" });
    expect((await findSilences(s, OPERATOR, {})).map((x) => x.Reason)).toEqual(["room again"]);
  });
});
