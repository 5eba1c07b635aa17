import type { SeriesBank } from "./bank.ts";
import { DAILY_CHANGED, WEEKLY_CHANGED } from "./change.ts";

/**
 * The seasonal baseline: an additive Holt-Winters form, level + daily slot + weekly slot
 * (Holt 1957, Winters 1960; Hyndman & Athanasopoulos, "Forecasting: Principles and
 * Practice", ch. 8.3), with two departures: the seasonal slots are indexed by time, not by
 * count, so gaps need no filling; and it learns by backfitting, each component taking its
 * share of what the previous ones left, so the three never over-correct together.
 */

/** The series' level with its cycles averaged out: where a drift shows, whichever component took it in. */
export const meanLevel = (bank: SeriesBank, i: number) => bank.level[i]! + bank.dailyTotal[i]! / bank.layout.daily.buckets + bank.weeklyTotal[i]! / bank.layout.weekly.buckets;

export const expectedValue = (bank: SeriesBank, i: number, di: number, wi: number) => bank.level[i]! + bank.daily[di]! + bank.weekly[wi]!;

/**
 * Rates apply per interval. A slot that spans more than UPDATES_PER_VISIT intervals shares
 * them out, so that minute data learns its hours of the week no faster than five-minute
 * data does (where the rates were settled): otherwise sixty updates a visit would make a
 * weekly slot follow every incident.
 */
const UPDATES_PER_VISIT = 12;
// Compared before dividing: most cadences share nothing out, and a division is costly in the hot loop.
const shareOf = (divisor: number) => (divisor <= UPDATES_PER_VISIT ? 1 : UPDATES_PER_VISIT / divisor);

/** Rate at which a slot re-learns when its cycle is seen to have moved (change.ts). */
const RELEARN_RATE = 0.5;

/**
 * Learns residual `rc` (already clipped when anomalous). Early on, each slot learns at
 * 1/visits, so the first cycles are taken in fast; later at the layout's fixed rates.
 * `moved` says which cycle was seen to move (change.ts' bits), as a number: booleans
 * passed to a function the compiler does not inline are tested the generic way.
 */
export function learnBaseline(bank: SeriesBank, i: number, di: number, wi: number, rc: number, seen: number, warm: boolean, moved: number): void {
  const dailyChanged = (moved & DAILY_CHANGED) !== 0;
  const weeklyChanged = (moved & WEEKLY_CHANGED) !== 0;
  const { layout } = bank;
  const { rates } = layout;
  const dailyVisits = Math.floor(seen / (layout.daily.buckets * layout.daily.divisor));
  const weeklyVisits = Math.floor(seen / (layout.weekly.buckets * layout.weekly.divisor));
  const aD = layout.daily.buckets > 1 ? Math.max(dailyChanged ? RELEARN_RATE : rates.daily, 1 / (dailyVisits + 1)) * shareOf(layout.daily.divisor) : 0;
  // In the first week, the weekly slot takes half of what the daily cycle leaves.
  const firstWeek = dailyVisits > 0 || layout.daily.buckets === 1 ? 0.5 : 0;
  const aW = Math.max(weeklyChanged ? RELEARN_RATE : rates.weekly, weeklyVisits === 0 ? firstWeek : 1 / (weeklyVisits + 1)) * shareOf(layout.weekly.divisor);
  const aL = Math.max(rates.level, warm ? 0 : 1 / (seen + 1));

  let left = rc;
  const dD = aD * left;
  bank.daily[di] = bank.daily[di]! + dD;
  bank.dailyTotal[i] = bank.dailyTotal[i]! + dD;
  left -= dD;
  const dW = aW * left;
  bank.weekly[wi] = bank.weekly[wi]! + dW;
  bank.weeklyTotal[i] = bank.weeklyTotal[i]! + dW;
  left -= dW;
  bank.level[i] = bank.level[i]! + aL * left;
}
