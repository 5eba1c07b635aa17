import type { SeriesBank } from "./bank.ts";
import { scoreOfZ, zOfScore } from "./calibration.ts";
import { slotOf } from "./layout.ts";

/**
 * One causal step for one series: predict the interval from the state (level + daily +
 * weekly seasonal slots, an additive Holt-Winters form), score the value against that
 * prediction, then learn from it. Anomalous values are clipped before learning so an
 * incident does not drag the baseline with it, until the same shift has lasted
 * `acceptShiftAfter` intervals: then it is taken as the new normal.
 */

/** Where one step writes its result, reused across calls to keep the hot loop allocation-free. */
export interface StepResult {
  expected: number;
  /** Robust residual scale after floors, in the series' units. */
  scale: number;
  z: number;
  score: number;
}

export const newStepResult = (): StepResult => ({ expected: NaN, scale: NaN, z: 0, score: 0 });

/** A residual beyond this many scales is treated as an anomaly when learning. */
const CLIP_Z = 3;
/** Anomalous runs up to this long may reveal a changed cycle; longer ones are shifts. */
const SHORT_EXCURSION = 4;
/** Scores at or above this count toward a persistent shift. */
const SHIFT_SCORE = 40;
const Z_SHIFT = zOfScore(SHIFT_SCORE);

/**
 * The smallest scale a series may have, so flat or near-zero series do not score 1 → 3
 * as a catastrophe: for counts, Poisson noise (√mean), faded out as counts grow large
 * enough for their own history to tell their noise.
 */
function scaleFloor(expected: number, integral: boolean): number {
  const size = Math.abs(expected);
  const relative = 1e-3 * size + 1e-9;
  return integral ? Math.max(relative, Math.sqrt(Math.max(size, 1)) * Math.exp(-size / 50)) : relative;
}

/** A slot's mark counts its consecutive same-direction surprises (signed, capped). */
const nextMark = (mark: number, dir: number) => (dir === 0 ? 0 : Math.sign(mark) === dir ? Math.max(-3, Math.min(3, mark + dir)) : dir);
/** Two visits in a row already surprised the same way: this third one says the cycle moved. */
const repeats = (mark: number, dir: number) => dir !== 0 && Math.sign(mark) === dir && Math.abs(mark) >= CYCLE_REPEATS;
const CYCLE_REPEATS = 2;

/**
 * Scores value `x` of interval index `k` (epoch ms / interval ms) for series `i`, then
 * learns it. With `learnOnly`, the score is not computed (history). A missing value is
 * not passed here at all: gaps leave the state as it was.
 */
export function step(bank: SeriesBank, i: number, k: number, x: number, out: StepResult, learnOnly = false): void {
  const { layout } = bank;
  const { rates } = layout;
  const seen = bank.seen[i]!;
  const di = i * layout.daily.buckets + slotOf(layout.daily, k);
  const wi = i * layout.weekly.buckets + slotOf(layout.weekly, k);

  if (!Number.isFinite(x)) {
    out.expected = NaN;
    out.scale = NaN;
    out.z = 0;
    out.score = 0;
    return;
  }
  if (bank.integral[i] && !Number.isInteger(x)) bank.integral[i] = 0;
  if (seen === 0) {
    bank.level[i] = x;
    bank.seen[i] = 1;
    out.expected = x;
    out.scale = NaN;
    out.z = 0;
    out.score = 0;
    return;
  }

  const expected = bank.level[i]! + bank.daily[di]! + bank.weekly[wi]!;
  const scale = Math.max(bank.scale[i]! * bank.tolerance[i]!, scaleFloor(expected, bank.integral[i] === 1));
  const r = x - expected;
  const z = r / scale;
  out.expected = expected;
  out.scale = scale;
  out.z = z;
  out.score = learnOnly || seen < layout.warmup ? 0 : scoreOfZ(z);

  // Track a persistent shift in one direction.
  const run = bank.run[i]!;
  const dir = seen < layout.warmup ? 0 : z >= Z_SHIFT ? 1 : z <= -Z_SHIFT ? -1 : 0;
  const nextRun = dir === 0 ? 0 : Math.sign(run) === dir ? Math.min(run * dir + 1, 32000) * dir : dir;
  bank.run[i] = nextRun;
  const accepting = Math.abs(nextRun) >= layout.acceptShiftAfter;

  if (accepting) {
    // A shift that lasted: jump to it, keep the seasonal shape, start counting afresh.
    bank.level[i] = bank.level[i]! + r;
    bank.run[i] = 0;
    bank.seen[i] = seen + 1;
    return;
  }

  // The same surprise at the same time of day as on the last visit: the daily cycle itself
  // changed (or was learned from an incident), so the slot re-learns instead of clipping.
  // Only short excursions count: the same hour inside one long shift is the shift, not the cycle.
  const slotDir = Math.abs(nextRun) > SHORT_EXCURSION ? 0 : dir;
  const dailyMark = bank.dailyMark[di]!;
  const weeklyMark = bank.weeklyMark[wi]!;
  const dailyChanged = layout.daily.buckets > 1 && repeats(dailyMark, slotDir);
  const weeklyChanged = repeats(weeklyMark, slotDir);
  bank.dailyMark[di] = nextMark(dailyMark, slotDir);
  bank.weeklyMark[wi] = nextMark(weeklyMark, slotDir);
  const cycleChanged = dailyChanged || weeklyChanged;

  // Learn: during warm-up, fast (1/visits); afterwards with fixed rates, on the clipped residual.
  const warm = seen >= layout.warmup;
  const limit = CLIP_Z * scale;
  const rc = warm && !cycleChanged ? (r > limit ? limit : r < -limit ? -limit : r) : r;
  const dailyVisits = Math.floor(seen / (layout.daily.buckets * layout.daily.divisor));
  const weeklyVisits = Math.floor(seen / (layout.weekly.buckets * layout.weekly.divisor));
  const aD = layout.daily.buckets > 1 ? Math.max(dailyChanged ? 0.5 : rates.daily, 1 / (dailyVisits + 1)) : 0;
  const aW = Math.max(weeklyChanged ? 0.5 : rates.weekly, weeklyVisits === 0 ? (dailyVisits > 0 || layout.daily.buckets === 1 ? 0.5 : 0) : 1 / (weeklyVisits + 1));
  const aL = Math.max(rates.level, warm ? 0 : 1 / (seen + 1));

  // Backfitting: each component takes a share of what the previous ones left.
  let left = rc;
  const dD = aD * left;
  bank.daily[di] = bank.daily[di]! + dD;
  left -= dD;
  const dW = aW * left;
  bank.weekly[wi] = bank.weekly[wi]! + dW;
  left -= dW;
  bank.level[i] = bank.level[i]! + aL * left;

  // Residual scale: EWMA of |residual| (mean absolute deviation → σ by √(π/2)), clipped;
  // it starts after the first cycle, whose residuals are the cycle itself.
  const firstCycle = layout.firstCycle;
  if (seen >= firstCycle) {
    const aS = Math.max(rates.scale, 1 / (seen - firstCycle + 1));
    const absR = Math.abs(r);
    const prior = bank.scale[i]!;
    const capped = seen > firstCycle && warm ? Math.min(absR, 2 * limit) : absR;
    bank.scale[i] = prior + aS * (1.2533 * capped - prior);
  }
  bank.seen[i] = seen + 1;
}
