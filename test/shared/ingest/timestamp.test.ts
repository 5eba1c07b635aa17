import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeTimestampParser, MAX_INSTANT, MAX_PATTERN_CELL, rowTimeParser } from "../../../shared/ingest/timestamp.ts";
import { ValidationException } from "../../../shared/model/errors.ts";

const t = Date.UTC(2020, 9, 1, 13, 0, 0);

describe("timestamps", () => {
  it("reads yyyy-MM-dd HH:mm:ss, ISO 8601 and epoch seconds or milliseconds without a format", () => {
    const p = makeTimestampParser(undefined);
    expect(p("2020-10-01 13:00:00")).toBe(t);
    expect(p("2020-10-01T13:00:00Z")).toBe(t);
    expect(p("2020-10-01T15:00:00+02:00")).toBe(t);
    expect(p(String(t / 1000))).toBe(t);
    expect(p(t)).toBe(t);
    expect(p(t / 1000)).toBe(t);
  });

  it("reads times without an offset in the metric set's time zone", () => {
    expect(makeTimestampParser(undefined, "Europe/Berlin")("2020-10-01 15:00:00")).toBe(t);
    expect(makeTimestampParser("yyyy-MM-dd HH:mm:ss", "America/New_York")("2020-10-01 09:00:00")).toBe(t);
  });

  it("follows an explicit ColumnFormat", () => {
    expect(makeTimestampParser("dd/MM/yyyy HH:mm")("01/10/2020 13:00")).toBe(t);
    expect(makeTimestampParser("EPOCH_SECONDS")("1601557200")).toBe(t);
    expect(makeTimestampParser("EPOCH_MILLISECONDS")("1601557200000")).toBe(t);
    expect(makeTimestampParser("dd/MM/yyyy HH:mm")("2020-10-01 13:00:00")).toBeUndefined();
  });

  it("refuses what is not a time", () => {
    const p = makeTimestampParser(undefined);
    for (const bad of ["", "yesterday", "2020-13-01 00:00:00", "2020-02-30 00:00:00", "2020-10-01 24:00:00", null, undefined]) expect(p(bad)).toBeUndefined();
  });

  it("reads the years 0000 to 0099 as themselves, not as 1900 to 1999, with or without a zone", () => {
    for (const zone of ["UTC", "Europe/London"]) {
      const p = makeTimestampParser(undefined, zone);
      expect(new Date(p("0050-01-01T00:00:00Z")!).toISOString(), zone).toBe("0050-01-01T00:00:00.000Z");
      expect(new Date(p("0099-12-31T23:59:59.999+00:00")!).toISOString(), zone).toBe("0099-12-31T23:59:59.999Z");
      expect(new Date(p("0048-02-29T00:00:00Z")!).toISOString(), zone).toBe("0048-02-29T00:00:00.000Z");
      expect(p("0050-02-29T00:00:00Z"), zone).toBeUndefined();
    }
    expect(new Date(makeTimestampParser(undefined)("0050-01-01 00:00:00")!).toISOString()).toBe("0050-01-01T00:00:00.000Z");
  });

  it("refuses an offset of a day or more, or of 60 minutes or more, in any zone, and reads the largest there is", () => {
    for (const zone of ["UTC", "Europe/Paris"]) {
      const p = makeTimestampParser(undefined, zone);
      for (const bad of ["2020-10-01T13:00:00+05:99", "2020-10-01T13:00:00+0560", "2020-10-01T13:00:00+24:00", "2020-10-01T13:00:00-99:00"]) expect(p(bad), `${bad} in ${zone}`).toBeUndefined();
      expect(p("2020-10-02T12:59:00+23:59")).toBe(t);
      expect(p("2020-10-01T18:30:00+0530")).toBe(t);
      expect(makeTimestampParser("ISO_8601", zone)("2020-10-01T13:00:00+05:60")).toBeUndefined();
    }
  });

  it("drops a fraction of a millisecond, whatever the format or zone: a row at the last instant of an interval is of that interval", () => {
    const dayEnd = Date.UTC(2024, 0, 31, 23, 59, 59, 999);
    const auto = makeTimestampParser(undefined);
    expect(auto("2024-01-31T23:59:59.9996Z")).toBe(dayEnd);
    expect(auto("2024-01-31T23:59:59.999999999Z")).toBe(dayEnd);
    expect(auto("2024-01-31 23:59:59.9996")).toBe(dayEnd);
    expect(makeTimestampParser("ISO_8601")("2024-01-31T23:59:59.9999Z")).toBe(dayEnd);
    expect(makeTimestampParser(undefined, "Europe/Paris")("2024-02-01T00:59:59.9996")).toBe(dayEnd);
    expect(makeTimestampParser("EPOCH_SECONDS")(String(dayEnd / 1000 + 0.0009))).toBe(dayEnd);
    expect(makeTimestampParser("EPOCH_SECONDS")("3599.9999")).toBe(3_599_999);
    expect(makeTimestampParser("EPOCH_MILLISECONDS")(`${dayEnd}.6`)).toBe(dayEnd);
    expect(auto("1706745599.9999")).toBe(dayEnd);
    // Before the epoch, rounded down too: the instant is in the interval that ends at 0.
    expect(makeTimestampParser("EPOCH_SECONDS")("-0.0001")).toBe(-1);
    expect(makeTimestampParser("EPOCH_SECONDS")("-0")).toBe(0);
  });

  it("reads every millisecond written as a decimal of seconds exactly, as text or as a JSON number (property)", () => {
    const seconds = makeTimestampParser("EPOCH_SECONDS");
    fc.assert(
      fc.property(fc.integer({ min: -4_102_444_799_999, max: 4_102_444_799_999 }), (ms) => {
        const text = `${ms < 0 ? "-" : ""}${Math.floor(Math.abs(ms) / 1000)}.${String(Math.abs(ms) % 1000).padStart(3, "0")}`;
        expect(seconds(text)).toBe(ms);
        expect(seconds(Number(text))).toBe(ms);
      }),
    );
  });

  it("refuses a time no Date holds, which could not be written back out, and reads the furthest one that is", () => {
    const auto = makeTimestampParser(undefined);
    for (const far of ["99999999999999999999", 1e20, "8640000000000001", -8_640_000_000_000_001, "+275760-09-13T00:00:00.001Z"]) expect(auto(far), String(far)).toBeUndefined();
    expect(makeTimestampParser("EPOCH_SECONDS")("8640000000000.001")).toBeUndefined();
    expect(makeTimestampParser("EPOCH_MILLISECONDS")(String(MAX_INSTANT + 1))).toBeUndefined();
    expect(auto(String(MAX_INSTANT))).toBe(MAX_INSTANT);
    expect(auto("+275760-09-13T00:00:00Z")).toBe(MAX_INSTANT);
    expect(new Date(auto("-8640000000000000")!).toISOString()).toBe("-271821-04-20T00:00:00.000Z");
  });

  it("round-trips any time written as yyyy-MM-dd HH:mm:ss (property)", () => {
    const p = makeTimestampParser("yyyy-MM-dd HH:mm:ss");
    const auto = makeTimestampParser(undefined);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_799 }), (s) => {
        const text = new Date(s * 1000).toISOString().slice(0, 19).replace("T", " ");
        expect(p(text)).toBe(s * 1000);
        expect(auto(text)).toBe(s * 1000);
      }),
    );
  });

  it("refuses to read with a pattern luxon could take exponential time on, as a metric set stored before such patterns were refused holds", () => {
    for (const format of ["dMdMdMdMdMdMdMdM", "ySySySySySyS", "yMd"]) {
      expect(() => makeTimestampParser(format), format).toThrow(ValidationException);
      expect(() => rowTimeParser({ MetricSetFrequency: "PT1H", TimestampColumn: { ColumnFormat: format } }), format).toThrow(/ColumnFormat '.*' has '.' and '.' in one run.*neither has a fixed width/);
    }
  });

  it(`hands luxon no cell longer than ${MAX_PATTERN_CELL} characters, however it would read`, () => {
    const padded = (n: number) => makeTimestampParser(`yyyy-MM-dd HH:mm '${"x".repeat(n)}'`);
    const cell = (n: number) => `2020-10-01 13:00 ${"x".repeat(n)}`;
    const fits = MAX_PATTERN_CELL - cell(0).length;
    expect(padded(fits)(cell(fits))).toBe(t);
    expect(padded(fits)(`  ${cell(fits)}  `)).toBe(t);
    expect(padded(fits + 1)(cell(fits + 1))).toBeUndefined();
    // A time written out in words with its zone's name is longer than 64 characters, and read.
    expect(makeTimestampParser("EEEE, MMMM d, yyyy 'at' h:mm:ss a z")("Wednesday, September 27, 2023 at 10:15:30 AM America/Argentina/Buenos_Aires")).toBe(1_695_820_530_000);
  });
});

describe("a day's time in its zone at the edge of what a Date holds", () => {
  it("is no timestamp, not NaN: the earliest instant a Date holds, read for a day of New York, has no place in the zone", () => {
    const daily = rowTimeParser({ MetricSetFrequency: "P1D", Timezone: "America/New_York" });
    expect(daily(String(-MAX_INSTANT))).toBeUndefined();
    expect(daily("2024-03-10 00:00:00")).toBe(Date.UTC(2024, 2, 10));
  });
});
