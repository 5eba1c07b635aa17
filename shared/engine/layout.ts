/**
 * Which cycles a series learns, derived from its interval alone so that any cadence works
 * (L4M's four frequencies and the irregular ones `vigil score` meets). A cycle has
 * `buckets` slots and interval k falls in slot floor(k / divisor) % buckets. Sub-daily data
 * learns its daily cycle at up to 288 slots and its weekly cycle by hour of week (168 slots),
 * so state stays small at PT5M; daily data learns the day of week.
 */
export interface Cycle {
  readonly buckets: number;
  readonly divisor: number;
}

export interface SeasonLayout {
  readonly intervalMs: number;
  readonly daily: Cycle;
  readonly weekly: Cycle;
  /** Intervals of the first cycle, whose residuals are the cycle itself: the scale starts after it. */
  readonly firstCycle: number;
  /** Intervals of history before a series is scored at all. */
  readonly warmup: number;
  /** Consecutive anomalies in one direction after which a shift is taken as the new level. */
  readonly acceptShiftAfter: number;
  /** Learning rates per update: level, daily slot, weekly slot, residual scale. */
  readonly rates: { readonly level: number; readonly daily: number; readonly weekly: number; readonly scale: number };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
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

export function layoutFor(intervalMs: number): SeasonLayout {
  const daily = intervalMs < DAY ? cycle(DAY, intervalMs, MAX_DAILY_BUCKETS) : { buckets: 1, divisor: 1 };
  const weekly = intervalMs < WEEK ? cycle(WEEK, intervalMs, MAX_WEEKLY_BUCKETS) : { buckets: 1, divisor: 1 };
  const firstCycle = daily.buckets > 1 ? daily.buckets * daily.divisor : Math.max(weekly.buckets * weekly.divisor, 2);
  return {
    intervalMs,
    daily,
    weekly,
    firstCycle,
    warmup: Math.max(2 * firstCycle, MIN_WARMUP),
    acceptShiftAfter: clamp(Math.round((12 * HOUR) / intervalMs), 3, 36),
    rates: {
      level: clamp(intervalMs / (20 * HOUR), 0.01, 0.2),
      daily: daily.buckets > 1 ? 0.1 : 0,
      weekly: weekly.buckets > 1 ? 0.05 : 0,
      scale: clamp(intervalMs / (50 * HOUR), 0.003, 0.05),
    },
  };
}

export const slotOf = (c: Cycle, k: number) => ((Math.floor(k / c.divisor) % c.buckets) + c.buckets) % c.buckets;
