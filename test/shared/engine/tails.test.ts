import { describe, expect, it } from "vitest";
import { Tails } from "../../../shared/engine/tails.ts";

describe("tails", () => {
  it("moves its quantiles by exp(±STEP · p), written out as the doubles Math.exp gives", () => {
    expect(Tails.UP75).toBe(Math.exp(Tails.STEP * 0.75));
    expect(Tails.DOWN75).toBe(Math.exp(-Tails.STEP * 0.25));
    expect(Tails.UP95).toBe(Math.exp(Tails.STEP * 0.95));
    expect(Tails.DOWN95).toBe(Math.exp(-Tails.STEP * 0.05));
  });
});
