import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextDueAt } from "../../../shared/app/schedule.ts";
import { rowTimeParser } from "../../../shared/ingest/timestamp.ts";
import { instantOf, intervalClock, lastClosedInterval, templateZone, zoneGridProblem, type IntervalTiming } from "../../../shared/model/interval-time.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Zones west and east of UTC, with summer time or without, whole hours or not, the date line's both sides. */
const ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Santiago", "America/St_Johns"];
const daily = (Timezone: string, Offset = 0): IntervalTiming => ({ MetricSetFrequency: "P1D", Timezone, Offset });

const formats = new Map<string, Intl.DateTimeFormat>();

/** The date of instant `t` in `zone`, as its midnight UTC, read by Intl: an oracle independent of luxon. */
function dateIn(zone: string, t: number): number {
  const format = formats.get(zone) ?? formats.set(zone, new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "numeric", day: "numeric" })).get(zone)!;
  const [month, day, year] = format.format(t).split("/").map(Number);
  return Date.UTC(year!, month! - 1, day!);
}

describe("interval time", () => {
  it("places every instant of a zone's date in that date's daily interval, summer time, odd offsets and the date line included", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), (zone, t) => {
        const clock = intervalClock(daily(zone));
        expect(Math.floor(clock(t) / DAY) * DAY).toBe(dateIn(zone, t));
        // The wall time comes back from its instant.
        expect(clock(instantOf(daily(zone), clock(t)))).toBe(clock(t));
      }),
      { numRuns: 2000 },
    );
  });

  it("places rows read one after another, as a file's are, on their dates across a year's changes of offset", () => {
    for (const zone of ["America/Santiago", "Australia/Lord_Howe"]) {
      const clock = intervalClock(daily(zone));
      const misplaced: string[] = [];
      for (let t = Date.UTC(2021, 0, 1); t < Date.UTC(2022, 0, 1); t += 10 * 60_000) if (Math.floor(clock(t) / DAY) * DAY !== dateIn(zone, t)) misplaced.push(new Date(t).toISOString());
      expect(misplaced, zone).toEqual([]);
    }
  });

  it("keeps instants for intervals shorter than a day, and days in UTC", () => {
    const t = Date.UTC(2021, 1, 8, 3, 30);
    for (const m of [{ MetricSetFrequency: "PT1H", Timezone: "America/New_York" }, { MetricSetFrequency: "P1D", Timezone: "UTC" }, { MetricSetFrequency: "P1D" }, { MetricSetFrequency: "P1D", Timezone: "Etc/UTC" }] as const) {
      expect(intervalClock(m)(t)).toBe(t);
      expect(instantOf(m, t)).toBe(t);
    }
    expect(templateZone({ MetricSetFrequency: "PT1H", Timezone: "America/New_York" })).toBe("America/New_York");
    expect(templateZone(daily("America/New_York"))).toBe("UTC");
  });

  it("closes a zone's day at its own midnight (23 or 25 hours on summer time's days), then waits the Offset", () => {
    const ny = daily("America/New_York");
    // New York's 8 February ends at 05:00 UTC on the 9th.
    expect(lastClosedInterval(ny, Date.UTC(2021, 1, 9, 4, 59))).toBe(Date.UTC(2021, 1, 7));
    expect(lastClosedInterval(ny, Date.UTC(2021, 1, 9, 5))).toBe(Date.UTC(2021, 1, 8));
    expect(lastClosedInterval(daily("America/New_York", 3600), Date.UTC(2021, 1, 9, 5, 59))).toBe(Date.UTC(2021, 1, 7));
    // Summer time starts on 14 March: the day ends at 04:00 UTC, an hour earlier.
    expect(lastClosedInterval(ny, Date.UTC(2021, 2, 15, 4))).toBe(Date.UTC(2021, 2, 14));
    expect(instantOf(ny, Date.UTC(2021, 2, 15)) - instantOf(ny, Date.UTC(2021, 2, 14))).toBe(23 * HOUR);
    // Tokyo's 9 February has ended by 15:00 UTC on the 9th; UTC's day had not.
    expect(lastClosedInterval(daily("Asia/Tokyo"), Date.UTC(2021, 1, 9, 15))).toBe(Date.UTC(2021, 1, 9));
    expect(lastClosedInterval({ MetricSetFrequency: "P1D" }, Date.UTC(2021, 1, 9, 15))).toBe(Date.UTC(2021, 1, 8));
    // The scheduler wakes when New York's 8 February has ended, and the Offset passed.
    expect(nextDueAt(daily("America/New_York", 600), Date.UTC(2021, 1, 9, 4))).toBe(Date.UTC(2021, 1, 9, 5, 10));
  });

  it("reads a daily row's time as its date in the zone, whatever its stamp says of the hour or the offset", () => {
    const dated = rowTimeParser({ ...daily("America/New_York"), TimestampColumn: { ColumnFormat: "yyyy-MM-dd" } });
    expect(dated("2021-02-08")).toBe(Date.UTC(2021, 1, 8));
    const stamped = rowTimeParser(daily("America/New_York"));
    expect(Math.floor(stamped("2021-02-09T04:30:00Z")! / DAY) * DAY).toBe(Date.UTC(2021, 1, 8));
    expect(Math.floor(stamped(String(Date.UTC(2021, 1, 9, 5) / 1000))! / DAY) * DAY).toBe(Date.UTC(2021, 1, 9));
    expect(stamped("not a time")).toBeUndefined();
    const hourly = rowTimeParser({ MetricSetFrequency: "PT1H", Timezone: "America/New_York" });
    expect(hourly("2021-02-08 23:30:00")).toBe(Date.UTC(2021, 1, 9, 4, 30));
  });
});

describe("folders a zone names on its intervals' grid, or not", () => {
  const now = Date.UTC(2026, 0, 10);
  const hourly = "/data/live/{{yyyyMMdd}}/{{HHmm}}";
  const problem = (MetricSetFrequency: IntervalTiming["MetricSetFrequency"], Timezone: string, template = hourly) => zoneGridProblem({ MetricSetFrequency, Timezone }, template, now);

  it("refuses folders of a zone's hours where its offset is not a whole number of intervals, and says why", () => {
    expect(problem("PT1H", "Asia/Kolkata")).toMatch(/^Asia\/Kolkata is UTC\+05:30 on 2026-01-10, not a whole number of PT1H intervals from UTC.*the interval from 00:00Z would be read from the folder named 0530 there/);
    expect(problem("PT10M", "Asia/Kathmandu")).toMatch(/UTC\+05:45/);
    expect(problem("PT1H", "America/St_Johns")).toMatch(/UTC-03:30/);
    // A day folder straddles two intervals at the zone's midnight just the same.
    expect(problem("PT1H", "Asia/Kolkata", "/data/live/{{yyyyMMdd}}")).toBeDefined();
    // Half an hour only in its summer: found within the year from now, whatever the season now.
    expect(problem("PT1H", "Australia/Lord_Howe")).toBeDefined();
    expect(zoneGridProblem({ MetricSetFrequency: "PT1H", Timezone: "Australia/Lord_Howe" }, hourly, Date.UTC(2026, 5, 1))).toBeDefined();
  });

  it("takes whole multiples of the interval, days of a zone, UTC and fixed folders", () => {
    expect(problem("PT5M", "Asia/Kolkata")).toBeUndefined();
    expect(problem("PT10M", "Asia/Kolkata")).toBeUndefined();
    expect(problem("PT5M", "Asia/Kathmandu")).toBeUndefined();
    expect(problem("PT1H", "Europe/Berlin")).toBeUndefined();
    expect(problem("PT1H", "America/New_York")).toBeUndefined();
    expect(problem("P1D", "Asia/Kolkata")).toBeUndefined();
    expect(problem("PT1H", "UTC")).toBeUndefined();
    expect(problem("PT1H", "Asia/Kolkata", "/data/all/")).toBeUndefined();
  });
});
