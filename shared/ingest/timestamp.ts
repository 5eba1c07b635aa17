import { DateTime } from "luxon";
import { datesInZone, intervalClock, type IntervalTiming } from "../model/interval-time.ts";
import { ValidationException } from "../model/errors.ts";
import { timestampFormatProblem } from "../model/timestamp-format.ts";

/**
 * Turns a timestamp cell into epoch milliseconds. Formats: L4M's `ColumnFormat` pattern
 * (e.g. `yyyy-MM-dd HH:mm:ss`, read with luxon tokens), `ISO_8601`, `EPOCH_SECONDS`,
 * `EPOCH_MILLISECONDS`, or — with no format — whichever of ISO 8601, `yyyy-MM-dd HH:mm:ss`
 * and epoch seconds/milliseconds the value is. Times without an offset are read in `timezone`.
 */
export type TimestampParser = (value: unknown) => number | undefined;

/** Epoch values below this are seconds, above it milliseconds (1e11 s is the year 5138). */
const EPOCH_MS_CUTOFF = 1e11;

/** A whole number of up to 15 digits, as a cell may write it (spaces around it): exact as a double. */
const WHOLE = /^\s*-?\d{1,15}\s*$/;

const ISO_LIKE = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * Epoch seconds or milliseconds as whole milliseconds, the fraction of a millisecond dropped
 * (rounded down), as luxon reads a time's: a row at 3599.9996 s is of the hour it is in, not
 * the next. A decimal is read digit by digit, so 0.57 s is 570 ms and not 569.99…; a number
 * is read as the shortest decimal that writes it.
 */
function parseEpoch(value: unknown, unit: "auto" | "s" | "ms"): number | undefined {
  // Most cells are whole numbers, exact as doubles: read at once (a whole number has no fraction to drop).
  const integer = typeof value === "number" ? value : typeof value === "string" && WHOLE.test(value) ? Number(value) : NaN;
  if (Number.isSafeInteger(integer)) return (unit === "ms" || (unit === "auto" && Math.abs(integer) >= EPOCH_MS_CUTOFF) ? integer : integer * 1000) + 0;
  const text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : typeof value === "string" ? value.trim() : "";
  const decimal = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!decimal) {
    // A number written with an exponent (1e+21, 1e-7).
    if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
    return Math.floor(unit === "ms" || (unit === "auto" && Math.abs(value) >= EPOCH_MS_CUTOFF) ? value : value * 1000) + 0;
  }
  const [, sign, whole, fraction = ""] = decimal;
  const digits = unit === "ms" || (unit === "auto" && Math.abs(Number(text)) >= EPOCH_MS_CUTOFF) ? 0 : 3;
  const magnitude = Number(whole) * 10 ** digits + Number(fraction.slice(0, digits).padEnd(digits, "0"));
  const below = /[1-9]/.test(fraction.slice(digits));
  // Rounded down: before the epoch, a fraction left makes the instant a millisecond earlier.
  return sign ? -magnitude - (below ? 1 : 0) + 0 : magnitude;
}

function parseIsoLike(s: string, zone: string): number | undefined {
  const m = ISO_LIKE.exec(s);
  if (!m) {
    const dt = DateTime.fromISO(s, { zone });
    return dt.isValid ? dt.toMillis() : undefined;
  }
  const [, y, mo, d, h, mi, sec, frac, offset] = m;
  if (!offset && zone !== "UTC") {
    const dt = DateTime.fromISO(s.replace(" ", "T"), { zone });
    return dt.isValid ? dt.toMillis() : undefined;
  }
  // The fraction of a millisecond dropped, as luxon does: 23:59:59.9996 is of its day, not the next.
  const check = new Date(Date.UTC(2000, 0, 1, +h!, +mi!, +(sec ?? 0), Number((frac ?? "").slice(0, 3).padEnd(3, "0"))));
  // Its year set apart: Date.UTC takes years 0–99 for 1900–1999 (0050 read as 1950).
  const ms = check.setUTCFullYear(+y!, +mo! - 1, +d!);
  if (check.getUTCFullYear() !== +y! || check.getUTCDate() !== +d! || check.getUTCMonth() !== +mo! - 1 || +h! > 23 || +mi! > 59 || +(sec ?? 0) > 59) return undefined;
  if (!offset || offset === "Z") return ms;
  const sign = offset[0] === "-" ? -1 : 1;
  const digits = offset.slice(1).replace(":", "");
  const [hours, minutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
  // No offset is a day or more, nor an hour's 60 minutes or more: +05:99 is a slip, not 6h39.
  if (hours > 23 || minutes > 59) return undefined;
  return ms - sign * (hours * 60 + minutes) * 60_000;
}

/**
 * The longest cell read with a pattern: beyond any written time (a weekday, month and zone
 * written out, `Wednesday, September 27, 2023 at 10:15:30 AM America/Argentina/Buenos_Aires`,
 * is 75), it bounds what luxon's regular expression is run on.
 */
export const MAX_PATTERN_CELL = 256;

function patternParser(format: string, zone: string): TimestampParser {
  // A metric set stored before such patterns were refused: its owner is told to change it (UpdateMetricSet), and nothing is read with it.
  const problem = timestampFormatProblem(format);
  if (problem) throw new ValidationException(`ColumnFormat '${format}' ${problem}`, { fields: [{ Name: "TimestampColumn.ColumnFormat", Message: problem }] });
  return (v) => {
    if (typeof v !== "string") return undefined;
    const text = v.trim();
    if (text.length > MAX_PATTERN_CELL) return undefined;
    const dt = DateTime.fromFormat(text, format, { zone });
    return dt.isValid ? dt.toMillis() : undefined;
  };
}

/**
 * The furthest from 1970 an instant may be, in ms: what a Date holds (±100,000,000 days). A
 * cell past it (epoch 99999999999999999999) is no time; taken for one, it was carried into
 * a back-test's report, which could then not be written out (toISOString throws).
 */
export const MAX_INSTANT = 8.64e15;

/** Throws a ValidationException for a pattern luxon cannot read in bounded time. */
export function makeTimestampParser(format: string | undefined, timezone = "UTC"): TimestampParser {
  const zone = timezone === "Etc/UTC" || timezone === "GMT" ? "UTC" : timezone;
  const parseOne = ((): TimestampParser => {
    switch (format?.toUpperCase()) {
      case undefined:
        return (v) => (typeof v === "number" || /^\s*-?\d+(\.\d+)?\s*$/.test(String(v)) ? parseEpoch(v, "auto") : parseIsoLike(String(v).trim(), zone));
      case "EPOCH_SECONDS":
        return (v) => parseEpoch(v, "s");
      case "EPOCH_MILLISECONDS":
      case "EPOCH_MILLIS":
        return (v) => parseEpoch(v, "ms");
      case "ISO_8601":
        return (v) => (typeof v === "string" ? parseIsoLike(v.trim(), zone) : undefined);
      default:
        return patternParser(format!, zone);
    }
  })();
  // Rows of one file mostly share a timestamp: remember the last one.
  let lastValue: unknown;
  let lastResult: number | undefined;
  return (value) => {
    if (value === lastValue && value !== undefined) return lastResult;
    lastValue = value;
    const t = value === undefined || value === null || value === "" ? undefined : parseOne(value);
    lastResult = t !== undefined && Math.abs(t) <= MAX_INSTANT ? t : undefined;
    return lastResult;
  };
}

/** A metric set's row times in interval time (interval-time.ts): read in its Timezone, and for a day of a zone, placed on their date. */
export function rowTimeParser(m: IntervalTiming & { readonly TimestampColumn?: { readonly ColumnFormat?: string | undefined } | undefined }): TimestampParser {
  const parse = makeTimestampParser(m.TimestampColumn?.ColumnFormat, m.Timezone ?? "UTC");
  if (!datesInZone(m)) return parse;
  const clock = intervalClock(m);
  return (value) => {
    const t = parse(value);
    if (t === undefined) return undefined;
    // At the edge of what a Date holds, the day's place in the zone is past it: no timestamp, not NaN (which every window comparison lets through).
    const placed = clock(t);
    return Number.isFinite(placed) ? placed : undefined;
  };
}
