import { intervalsPerCalibrated } from "./calibration.ts";
import { driftRate } from "./drift.ts";
import { RingPlace } from "./routine.ts";

/**
 * Which cycles a series learns, derived from its interval alone so that any cadence works
 * (the metric set frequencies, PT1M to P1D, and whatever step `vigil score` meets). A cycle has
 * `buckets` slots and interval k falls in slot floor(k / divisor) % buckets. Sub-daily data
 * learns its daily cycle at up to 288 slots and its weekly cycle by hour of week (168 slots),
 * so state stays small at PT5M; daily data learns the day of week.
 */
export interface Cycle {
  readonly buckets: number;
  readonly divisor: number;
}

/**
 * A ring of the largest residual size seen at each bucket of a cycle, and where in the
 * bucket it was (routine.ts), long enough that every bucket within `drift` intervals of
 * "one cycle ago" still holds that cycle's value.
 */
export interface RoutineRing {
  readonly buckets: number;
  /** Intervals per bucket. */
  readonly divisor: number;
  /** How far either side of one cycle ago a routine may wander, in intervals. */
  readonly drift: number;
  /** Elements per series: 0 when the cycle is not learned. */
  readonly length: number;
}

export interface SeasonLayout {
  readonly intervalMs: number;
  readonly daily: Cycle;
  readonly weekly: Cycle;
  /** Where routines are remembered: the last day of sub-daily data and the last week. */
  readonly routine: { readonly day: RoutineRing; readonly week: RoutineRing };
  /** Intervals of the first cycle, whose residuals are the cycle itself: the scale starts after it. */
  readonly firstCycle: number;
  /** Intervals of history before a series is scored at all. */
  readonly warmup: number;
  /** Consecutive anomalies in one direction after which a shift is taken as the new level. */
  readonly acceptShiftAfter: number;
  /** Intervals a series' event stays open after its last anomaly (event.ts): EVENT_HOLD_MS, and at least two intervals. */
  readonly eventHold: number;
  /** How long after the anomaly that opened an event the series' tails learn nothing, in intervals (tails.ts; the opening one is learned): TAILS_HELD_MS, and at least three. */
  readonly tailsHeld: number;
  /** Intervals in one calibrated interval (calibration.ts): 1 at L4M's frequencies, 5 at PT1M, whose rarities are judged per five minutes. */
  readonly perCalibrated: number;
  /** Learning rates per update: level, daily slot, weekly slot, residual scale. */
  readonly rates: { readonly level: number; readonly daily: number; readonly weekly: number; readonly scale: number };
  /** How fast the drift's reference follows the level (drift.ts), per interval. */
  readonly driftRate: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * The level's memory is 20 hours (hourly data; at least 5 intervals), but at most the longer
 * of 200 minutes and 40 intervals: minute and five-minute data follow their level within 200
 * minutes (ten-minute data 400), not within a day, and not within the last hour either.
 * AIOps KPIs at PT1M (docs/engine.md), a memory of 100 / 120 / 143 / 200 / 286 / 400
 * minutes: event F1 at 0.7 of 0.533 / 0.554 / 0.539 / 0.562 / 0.555 / 0.539. At PT5M, 100 /
 * 150 / 175 / 200 / 225 / 250 / 300 / 500 minutes: NAB's development set (standard) 68.46 /
 * 71.61 / 71.81 / 72.01 / 71.91 / 72.11 / 70.40 / 70.38, the KPIs as the bench folder's
 * runner sends them 0.351 / 0.366 / 0.360 / 0.371 / 0.353 / 0.344 / 0.360 / 0.344.
 */
const LEVEL_MIN_INTERVALS = 40;
const LEVEL_MEMORY_MS = 200 * 60_000;
const WEEK = 7 * DAY;
/**
 * How long an incident stays one after its last anomaly: an hour, and at least two
 * intervals, so that one calm interval does not split it. An anomaly that comes later is a
 * new incident, alerted at its own onset; a longer hold made one group of two incidents,
 * and the second was never alerted. AIOps KPIs (docs/engine.md), a hold of
 * 30 / 45 / 60 / 75 / 90 / 120 minutes, event F1 at 0.7 at PT1M: 0.598 / 0.596 / 0.595 /
 * 0.592 / — / 0.562; as the bench folder's runner sends them (PT5M): 0.329 / 0.334 / 0.333 /
 * 0.328 / — / 0.291; NAB's development set (standard) at 60 / 90 / 120: 70.28 / 70.48 / 70.58.
 */
const EVENT_HOLD_MS = HOUR;
/**
 * How long an open incident keeps the series' tails from learning (tails.ts): until six hours
 * after the anomaly that opened it, and at least three intervals after (daily data: the two
 * days after the opening one). One longer than that is the series' new normal as far as
 * its tails go: a minute series that turned spiky for good kept its first event open 21.7
 * hours over 10 days when the tails were held for the whole event (`npm run bench -- spiky`),
 * held for 2 / 3 / 4 / 6 / 8 / 12 hours 6.8 / 7.3 / 8.0 / 9.5 / 11.3 / 14.9; the tails held for
 * 2 or 3 hours let an incident of two or three hours teach them, and the same incident coming
 * back an hour later scored below 70 (semantics.test.ts). NAB's development set and the AIOps
 * KPIs are the same from 4 to 8 hours (docs/engine.md, "The tails during an incident").
 */
const TAILS_HELD_MS = 6 * HOUR;
const MAX_DAILY_BUCKETS = 288;
const MAX_WEEKLY_BUCKETS = 168;
/** No series is scored before this many points, whatever its cadence. */
export const MIN_WARMUP = 16;

function cycle(periodMs: number, intervalMs: number, maxBuckets: number): Cycle {
  const per = Math.max(1, Math.round(periodMs / intervalMs));
  const divisor = Math.max(1, Math.ceil(per / maxBuckets));
  return { buckets: Math.max(1, Math.round(per / divisor)), divisor };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** A routine may come this share of its cycle early or late (a nightly job at 03:15 ± 45 minutes). */
const ROUTINE_DRIFT = 1 / 32;

function routineRing(c: Cycle, drift: number): RoutineRing {
  if (c.buckets <= 1) return { buckets: c.buckets, divisor: c.divisor, drift: 0, length: 0 };
  return { buckets: c.buckets, divisor: c.divisor, drift, length: c.buckets + Math.ceil(drift / c.divisor) + 1 };
}

export function layoutFor(intervalMs: number): SeasonLayout {
  const daily = intervalMs < DAY ? cycle(DAY, intervalMs, MAX_DAILY_BUCKETS) : { buckets: 1, divisor: 1 };
  const weekly = intervalMs < WEEK ? cycle(WEEK, intervalMs, MAX_WEEKLY_BUCKETS) : { buckets: 1, divisor: 1 };
  const firstCycle = daily.buckets > 1 ? daily.buckets * daily.divisor : Math.max(weekly.buckets * weekly.divisor, 2);
  // Routines may wander 1/32 of their cycle: of a day for sub-daily data, of a week for daily data.
  const routineDrift = Math.ceil(firstCycle * ROUTINE_DRIFT);
  const rates = {
    level: clamp(intervalMs / (20 * HOUR), Math.min(1 / LEVEL_MIN_INTERVALS, intervalMs / LEVEL_MEMORY_MS), 0.2),
    daily: daily.buckets > 1 ? 0.1 : 0,
    weekly: weekly.buckets > 1 ? 0.05 : 0,
    scale: clamp(intervalMs / (50 * HOUR), 0.003, 0.05),
  };
  return {
    intervalMs,
    daily,
    weekly,
    routine: { day: routineRing(daily, routineDrift), week: routineRing(weekly, routineDrift) },
    firstCycle,
    warmup: Math.max(2 * firstCycle, MIN_WARMUP),
    acceptShiftAfter: clamp(Math.round((12 * HOUR) / intervalMs), 3, 36),
    eventHold: clamp(Math.round(EVENT_HOLD_MS / intervalMs), 2, 65535),
    tailsHeld: Math.max(Math.round(TAILS_HELD_MS / intervalMs), 3),
    perCalibrated: intervalsPerCalibrated(intervalMs),
    rates,
    driftRate: driftRate(intervalMs),
  };
}

/** One modulo, made non-negative after (k is negative only before 1970), and no division by a divisor of 1: each is costly in the hot loop. */
export function slotOf(c: Cycle, k: number): number {
  const s = (c.divisor === 1 ? Math.floor(k) : Math.floor(k / c.divisor)) % c.buckets;
  return s < 0 ? s + c.buckets : s;
}

/**
 * Where interval k falls in a layout's cycles and routine rings (routine.ts' RingPlace):
 * every series of an interval shares it, so a bank makes it once per interval rather than
 * once per point, each part being a division or a modulo.
 */
export class IntervalPlaces {
  /** The interval and the slot-major arrays' stride (the bank's capacity) the places were made for; none yet (no stride is −1). */
  k = 0;
  stride = -1;
  /** The slot of k in the daily and the weekly cycle (slotOf). */
  daily = 0;
  weekly = 0;
  /** Where those slots' rows start in a slot-major array: slot · stride (series i's element is at that + i). */
  dailyBase = 0;
  weeklyBase = 0;
  readonly day = new RingPlace();
  readonly week = new RingPlace();

  constructor(private readonly layout: SeasonLayout) {}

  /** The places of interval `k` in arrays of `stride`, made anew when k or the stride is not the one last asked for. */
  of(k: number, stride: number): IntervalPlaces {
    if (k !== this.k || stride !== this.stride) this.set(k, stride);
    return this;
  }

  private set(k: number, stride: number): void {
    const { daily, weekly, routine } = this.layout;
    this.daily = slotOf(daily, k);
    this.weekly = slotOf(weekly, k);
    this.dailyBase = this.daily * stride;
    this.weeklyBase = this.weekly * stride;
    if (routine.day.length > 0) this.day.set(routine.day, k, stride);
    if (routine.week.length > 0) this.week.set(routine.week, k, stride);
    this.stride = stride;
    this.k = k;
  }
}
