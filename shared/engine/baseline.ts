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

/**
 * Early on a component learns at 1/(visits + 1), then at its `rate`: it takes the larger.
 * This is the point count (visits = ⌊seen / period⌋) from which 1/(visits + 1) ≤ rate, found
 * by the very division the step would make (a correctly rounded division only falls as
 * visits grow), so that from there the step takes the rate without two divisions.
 */
export function rateRulesFrom(rate: number, period: number): number {
  if (!(rate > 0)) return Infinity;
  let visits = 0;
  while (!(1 / (visits + 1) <= rate)) visits++;
  return visits * period;
}

/**
 * 1/(visits + 1), the early rate of a component at `seen` points, for Math.max with its rate
 * (or a larger one); 0 once the rate rules (`from`: rateRulesFrom), where the max is the rate all the same.
 */
export const earlyRate = (seen: number, from: number, period: number) => (seen >= from ? 0 : 1 / (Math.floor(seen / period) + 1));
