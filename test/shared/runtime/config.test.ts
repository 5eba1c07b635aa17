import { describe, expect, it } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { configFromEnv } from "../../../shared/runtime/config.ts";
import { alertSettingsOf } from "../../../shared/runtime/settings.ts";

const aws = { VIGIL_MODE: "aws", VIGIL_TABLE: "vigil-dev", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "eu-west-1" };

describe("runtime config", () => {
  it("reads the reminder interval as an ISO-8601 duration of days and time, and refuses others", () => {
    const repeat = (iso: string) => alertSettingsOf(configFromEnv({ VIGIL_REPEAT_INTERVAL: iso })).repeatMs;
    expect([repeat("PT4H"), repeat("P1DT12H"), repeat("PT90M"), repeat("PT30S"), repeat("P2D")]).toEqual([4 * 3_600_000, 36 * 3_600_000, 90 * 60_000, 30_000, 48 * 3_600_000]);
    for (const bad of ["P", "PT", "P4H", "P1M", "PT4", "4H", "PT1.5H"]) expect(() => configFromEnv({ VIGIL_REPEAT_INTERVAL: bad }), bad).toThrow(/VIGIL_REPEAT_INTERVAL/);
  });

  it("defaults to the local mode", () => {
    expect(configFromEnv({})).toEqual({ VIGIL_MODE: "local", VIGIL_DATA_DIR: "vigil-data" });
  });

  it("reads the AWS mode, ignoring unrelated variables", () => {
    expect(configFromEnv({ ...aws, PATH: "/bin", VIGIL_DATA_DIR: "x" })).toEqual(aws);
  });

  it("names what is missing or wrong", () => {
    const fields = (env: NodeJS.ProcessEnv) => {
      try {
        configFromEnv(env);
        return [];
      } catch (e) {
        if (!(e instanceof ValidationException)) throw e;
        return e.fields.map((f) => f.Name);
      }
    };
    expect(fields({ ...aws, VIGIL_TABLE: undefined })).toEqual(["VIGIL_TABLE"]);
    expect(fields({ ...aws, VIGIL_RESULTS_ROOT: "results/" })).toEqual(["VIGIL_RESULTS_ROOT"]);
    expect(fields({ VIGIL_MODE: "cloud" })).toEqual(["VIGIL_MODE"]);
  });
});
