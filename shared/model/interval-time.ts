import { DateTime, IANAZone } from "luxon";
import { intervalMs, type Frequency } from "./frequency.ts";

/** What places a metric set's intervals in time. */
export interface IntervalTiming {
  readonly MetricSetFrequency: Frequency;
  readonly Timezone?: string | undefined;
  readonly Offset?: number | undefined;
}

/**
 * How a metric set's intervals sit in time. An interval shorter than a day is an instant:
 * 09:00 in Berlin is the interval starting 08:00Z, its folder rendered in Berlin's time
 * (`…/0900`). A day (P1D) is a date of the metric set's Timezone, kept as that date's
 * midnight UTC (interval time): every row of New York's 8 February, whatever its hour or its
 * stamp's offset, is in the interval 2021-02-08T00:00Z, whose folder is `20210208`, as a
 * daily business figure is dated. Days taken as UTC's put a zone's midnight rows in the day
 * before its own, where they were refused as outside the interval.
 */
export const datesInZone = (m: IntervalTiming) => m.MetricSetFrequency === "P1D" && zoneOf(m) !== "UTC";

const zoneOf = (m: IntervalTiming) => (m.Timezone === undefined || m.Timezone === "Etc/UTC" || m.Timezone === "GMT" ? "UTC" : m.Timezone);

/** How a message names the interval starting at `t` (interval time): a day of a zone by its date there ("2021-02-08 in America/New_York"), another by its start instant. */
export const intervalNamed = (m: IntervalTiming, t: number) => (datesInZone(m) ? `${new Date(t).toISOString().slice(0, 10)} in ${zoneOf(m)}` : `starting ${new Date(t).toISOString()}`);

/** The zone an interval's start is rendered in, as a template's placeholders and folders name it. */
export const templateZone = (m: IntervalTiming) => (datesInZone(m) ? "UTC" : zoneOf(m));

/**
 * Why a templated path cannot name a metric set's folders in its zone, if it cannot. An
 * interval shorter than a day is an instant of UTC, and its folder is named by its start in
 * the zone: where the zone's offset is not a whole number of intervals (Asia/Kolkata's +05:30
 * at PT1H, Asia/Kathmandu's +05:45 at PT10M), the name rendered for an interval (`0930`) is
 * not the folder its files are under (`1000`), and a day's folder splits the interval at the
 * zone's midnight. Checked each day of the year from `now`, as summer time can move an offset
 * by half an hour (Australia/Lord_Howe).
 */
export function zoneGridProblem(m: IntervalTiming, template: string, now: number): string | undefined {
  const zone = zoneOf(m);
  if (datesInZone(m) || zone === "UTC" || !/\{\{[^{}]+\}\}/.test(template)) return undefined;
  const len = intervalMs(m.MetricSetFrequency);
  const iana = IANAZone.create(zone);
  for (let day = 0; day <= 366; day++) {
    const at = now + day * 86_400_000;
    if ((iana.offset(at) * 60_000) % len === 0) continue;
    const local = DateTime.fromMillis(at, { zone });
    const start = DateTime.fromMillis(Math.floor(at / len) * len, { zone });
    return `${zone} is UTC${local.toFormat("ZZ")} on ${local.toISODate()}, not a whole number of ${m.MetricSetFrequency} intervals from UTC, where intervals start: folders named by its time do not start where intervals do (the interval from ${start.toUTC().toFormat("HH:mm")}Z would be read from the folder named ${start.toFormat("HHmm")} there, and one interval a day lies in two day folders). Name the folders in UTC (a metric set with Timezone UTC, its timestamps carrying their offset), or read fixed folders (HistoricalDataPathList)`;
  }
  return undefined;
}

/** An offset holds between a zone's transitions, which fall on a quarter hour. */
const QUARTER_HOUR = 900_000;

/** An instant (epoch ms) in interval time: itself, or for a day of a zone, its wall time in that zone read as UTC. */
export function intervalClock(m: IntervalTiming): (instant: number) => number {
  if (!datesInZone(m)) return (t) => t;
  const zone = IANAZone.create(zoneOf(m));
  let quarter = NaN;
  let offset = 0;
  return (t) => {
    const q = Math.floor(t / QUARTER_HOUR);
    if (q !== quarter) [quarter, offset] = [q, zone.offset(t) * 60_000];
    return t + offset;
  };
}

/** The instant interval time `t` stands for: the same wall time in the zone, for a day of a zone (at a gap, the wall time after it). */
export function instantOf(m: IntervalTiming, t: number): number {
  return datesInZone(m) ? DateTime.fromMillis(t, { zone: "UTC" }).setZone(zoneOf(m), { keepLocalTime: true }).toMillis() : t;
}

/** Start of the newest interval that has closed by `now` (an instant), allowing for the metric set's Offset (seconds). */
export function lastClosedInterval(metricSet: IntervalTiming, now: number): number {
  const len = intervalMs(metricSet.MetricSetFrequency);
  return Math.floor(intervalClock(metricSet)(now - (metricSet.Offset ?? 0) * 1000) / len) * len - len;
}
