import fc from "fast-check";
import { DateTime } from "luxon";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { CreateMetricSetRequest, UpdateMetricSetRequest } from "../../../shared/model/metric-set.ts";
import { timestampFormatProblem, tokenizeFormat } from "../../../shared/model/timestamp-format.ts";
import { parseOrThrow } from "../../../shared/model/validate.ts";
import { metricSetRequest } from "../../builders.ts";

/** Pieces of patterns: luxon tokens of fixed and of variable width, and literals; no macro token (D, t, T, f, F), which luxon expands. */
const FIXED = ["yyyy", "MM", "dd", "HH", "hh", "mm", "ss", "SSS", "E", "kkkk", "WW"];
const VARIABLE_DIGITS = ["y", "yy", "yyyyy", "M", "L", "d", "H", "h", "m", "s", "S", "u", "uu", "o", "W", "kk", "q"];
const VARIABLE = [...VARIABLE_DIGITS, "MMM", "MMMM", "EEE", "a", "G", "z", "Z", "ZZ", "ZZZ"];
const LITERALS = ["-", ":", " ", ".", "/", "'T'", "'at'", "''", "x", "1", "+", "_"];

describe("timestamp patterns", () => {
  it("splits a pattern into tokens as luxon does (property)", () => {
    const chars = fc.constantFrom(..."yMLdHhmsSuoWkqEacGzZ'- :./x1");
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 30 }).map((cs) => cs.join("")), (format) => {
        expect(tokenizeFormat(format)).toEqual(DateTime.fromFormatExplain("", format).tokens);
      }),
    );
  });

  it("accepts patterns where each run of tokens that run into each other has at most one of variable width", () => {
    for (const f of ["yyyyMMddHHmm", "yyMMdd", "Hmm", "yyyyMMddHHmmssS", "yyyyM", "d'1'", "H1mm", "'-'Z", "ZZ':'mm", "yyyy-M-d H:m", "dd MMM yyyy", "yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "yyyy-MM-dd HH:mm:ss", "dd/MM/yyyy h:mm a", "MMMM d, yyyy", "yyyy-MM-dd HH:mm z", "HH:mmZZZ", "D", "ISO_8601", "epoch_seconds"]) {
      expect(timestampFormatProblem(f), f).toBeUndefined();
    }
  });

  it("refuses two tokens of variable width in one run, saying what to change", () => {
    for (const f of ["yMd", "dMdM", "ySySyS", "yMMd", "MMMEEE", "zZ", "d1H"]) {
      expect(timestampFormatProblem(f), f).toMatch(/neither has a fixed width.*put a separator between them/);
    }
    expect(timestampFormatProblem("yyyy-MM-ddTHH:mm")).toMatch(/uses 'T'.*quote literal letters/);
  });

  it("refuses any two tokens of digits of variable width with only tokens of digits between them (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...VARIABLE_DIGITS), fc.array(fc.constantFrom(...FIXED.filter((f) => f !== "E")), { maxLength: 3 }), fc.constantFrom(...VARIABLE_DIGITS), (a, between, b) => {
        const format = [a, ...between, b].join("");
        // The same letter twice would be one (longer) token.
        fc.pre(tokenizeFormat(format).length === between.length + 2);
        expect(timestampFormatProblem(format)).toBeDefined();
      }),
    );
  });

  it("makes CreateMetricSet and UpdateMetricSet refuse the attack pattern as a field", () => {
    const TimestampColumn = { ColumnName: "timestamp", ColumnFormat: "dM".repeat(8) };
    for (const [schema, request] of [
      [CreateMetricSetRequest, metricSetRequest({ TimestampColumn })],
      [UpdateMetricSetRequest, { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders", TimestampColumn }],
    ] as const) {
      let thrown: unknown;
      try {
        parseOrThrow(schema, request, "request");
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ValidationException);
      expect((thrown as ValidationException).fields).toContainEqual({ Name: "TimestampColumn.ColumnFormat", Message: expect.stringMatching(/'d' and 'M' in one run.*neither has a fixed width/) });
    }
    expect(CreateMetricSetRequest.safeParse(metricSetRequest({ TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyyMMddHHmm" } })).success).toBe(true);
  });

  it("loads no date library: the schemas that check a pattern are loaded where luxon must not be", () => {
    const source = readFileSync(new URL("../../../shared/model/timestamp-format.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/^\s*import\b/m);
  });
});
