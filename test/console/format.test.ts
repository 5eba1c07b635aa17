import { describe, expect, it } from "vitest";
import { frequency, intervalMs } from "../../console/app/format.ts";
import { FREQUENCIES, intervalMs as modelIntervalMs } from "../../shared/model/frequency.ts";

describe("the console's frequencies", () => {
  it("know every frequency a metric set takes, PT1M too (a minute detector's series page marked its onset at NaN)", () => {
    for (const f of FREQUENCIES) {
      expect(intervalMs(f)).toBe(modelIntervalMs(f));
      expect(frequency(f)).not.toBe(f);
    }
    expect(frequency("PT1M")).toBe("every minute");
  });

  it("say an unknown one as it is, of no length", () => {
    expect(intervalMs("PT2H")).toBe(0);
    expect(intervalMs("constructor")).toBe(0);
    expect(frequency("PT2H")).toBe("PT2H");
    expect(frequency(undefined)).toBe("unknown");
  });
});
