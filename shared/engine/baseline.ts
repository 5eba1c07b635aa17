import { Change } from "./change.ts";
import type { SeasonLayout } from "./layout.ts";

/**
 * The seasonal baseline: an additive Holt-Winters form, level + daily slot + weekly slot
 * (Holt 1957, Winters 1960; Hyndman & Athanasopoulos, "Forecasting: Principles and
 * Practice", ch. 8.3), with two departures: the seasonal slots are indexed by time, not by
 * count, so gaps need no filling; and it learns by backfitting, each component taking its
 * share of what the previous ones left, so the three never over-correct together. Early
 * on, each slot learns at 1/visits, so the first cycles are taken in fast; later at the
 * layout's fixed rates. step.ts predicts and learns it, in its one pass over a series.
 */

/** The series' level with its cycles averaged out: where a drift shows, whichever component took it in. */
export const meanLevel = (layout: SeasonLayout, level: number, dailyTotal: number, weeklyTotal: number) => level + dailyTotal / layout.daily.buckets + weeklyTotal / layout.weekly.buckets;

/**
 * Rates apply per interval. A slot that spans more than UPDATES_PER_VISIT intervals shares
 * them out, so that minute data learns its hours of the week no faster than five-minute
 * data does (where the rates were settled): otherwise sixty updates a visit would make a
 * weekly slot follow every incident.
 */
const UPDATES_PER_VISIT = 12;
// Compared before dividing: most cadences share nothing out, and a division is costly in the hot loop.
export const shareOf = (divisor: number) => (divisor <= UPDATES_PER_VISIT ? 1 : UPDATES_PER_VISIT / divisor);

/** Rate at which a slot re-learns when its cycle is seen to have moved (change.ts). */
export const RELEARN_RATE = 0.5;

/** The daily slot's share of a residual at `seen` points learned, `moved` the cycles seen to have moved (change.ts). */
export function dailyRate(layout: SeasonLayout, seen: number, moved: number): number {
  const { daily, rates } = layout;
  const visits = Math.floor(seen / (daily.buckets * daily.divisor));
  return daily.buckets > 1 ? Math.max(moved & Change.DAILY_CHANGED ? RELEARN_RATE : rates.daily, 1 / (visits + 1)) * shareOf(daily.divisor) : 0;
}

/** The weekly slot's share of what the daily slot left. */
export function weeklyRate(layout: SeasonLayout, seen: number, moved: number): number {
  const { daily, weekly, rates } = layout;
  const dailyVisits = Math.floor(seen / (daily.buckets * daily.divisor));
  const weeklyVisits = Math.floor(seen / (weekly.buckets * weekly.divisor));
  // In the first week, the weekly slot takes half of what the daily cycle leaves.
  const firstWeek = dailyVisits > 0 || daily.buckets === 1 ? 0.5 : 0;
  return Math.max(moved & Change.WEEKLY_CHANGED ? RELEARN_RATE : rates.weekly, weeklyVisits === 0 ? firstWeek : 1 / (weeklyVisits + 1)) * shareOf(weekly.divisor);
}

/**
 * The rates a series learns at, at `seen` points learned, when no cycle was seen to move:
 * each component at 1/visits early on, then at the layout's rate. They depend on the count
 * alone, which the series of a metric set mostly share, so a bank keeps those of the count
 * last asked for, and most points take them without the divisions.
 */
export class LearningRates {
  seen = -1;
  /** The daily and weekly slots' and the level's shares of a residual (step.ts), and the residual scale's rate (scale.ts; from the first cycle on). */
  daily = 0;
  weekly = 0;
  level = 0;
  scale = 0;

  constructor(private readonly layout: SeasonLayout) {}

  at(seen: number): LearningRates {
    if (seen !== this.seen) this.set(seen);
    return this;
  }

  private set(seen: number): void {
    const { rates, warmup, firstCycle } = this.layout;
    this.daily = dailyRate(this.layout, seen, 0);
    this.weekly = weeklyRate(this.layout, seen, 0);
    this.level = Math.max(rates.level, seen >= warmup ? 0 : 1 / (seen + 1));
    this.scale = Math.max(rates.scale, 1 / (seen - firstCycle + 1));
    this.seen = seen;
  }
}
