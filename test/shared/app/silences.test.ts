import { describe, expect, it } from "vitest";
import { createDetector, createSilence, expireSilence, findSilences, OPERATOR, updateSilence } from "../../../shared/app/index.ts";
import { ConflictException, ResourceNotFoundException, ValidationException } from "../../../shared/model/errors.ts";
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
});
