import { describe, expect, it } from "vitest";
import { CreateMetricSetRequest } from "../../../shared/model/metric-set.ts";
import { Arn } from "../../../shared/model/shapes.ts";
import * as z from "../../../shared/model/zod.ts";
import { metricSetRequest } from "../../builders.ts";

/**
 * zod runs every check of a schema whatever the ones before it found: a pattern after a length
 * bound would read a string of any length a request holds. Vigil's maxLength stops them.
 */
describe("maxLength", () => {
  it("stops the checks after it when it fails: a string past its bound is never read by the pattern or refinement behind", () => {
    let read = 0;
    const Bounded = z.string().check(z.maxLength(8, "too long"), z.refine(() => (read++, false), "refined"));
    expect(z.safeParse(Bounded, "x".repeat(9)).error?.issues.map((i) => i.message)).toEqual(["too long"]);
    expect(read).toBe(0);
    // Within the bound, the checks after it run as before.
    expect(z.safeParse(Bounded, "x").error?.issues.map((i) => i.message)).toEqual(["refined"]);
    expect(read).toBe(1);
  });

  it("refuses an ARN or a timestamp format past its bound for its length alone", () => {
    expect(z.safeParse(Arn, `arn:a:${":".repeat(500)}\n`).error?.issues.map((i) => i.code)).toEqual(["too_big"]);
    const request = metricSetRequest({ TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "d".repeat(150_000) } });
    expect(z.safeParse(CreateMetricSetRequest, request).error?.issues.map((i) => [i.path.join("."), i.code])).toEqual([["TimestampColumn.ColumnFormat", "too_big"]]);
  });
});
