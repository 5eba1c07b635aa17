import type { SeriesBank } from "./bank.ts";

/**
 * Change detection: telling a new normal from an incident, with two run counters.
 * - Level shifts: consecutive anomalies in one direction (a one-sided run test, like a
 *   CUSUM with a hard threshold, Page 1954). Once a run lasts `acceptShiftAfter`
 *   intervals, the shift is taken as the new level.
 * - Cycle changes: a slot of the day or week that surprised the same way on consecutive
 *   visits, in short excursions. On the third such visit the slot re-learns: the cycle
 *   moved, or history taught it an incident.
 */

/** Residuals at least this many scales out count toward a run. */
const Z_RUN = 3;
/** Runs up to this long may reveal a changed cycle; longer ones are shifts. */
const SHORT_EXCURSION = 4;
/** Consecutive surprised visits before a slot re-learns (this visit makes the third). */
const CYCLE_REPEATS = 2;
const MARK_CAP = 3;

/** The direction of a surprise: +1 above, −1 below, 0 none or not yet warm. */
export const surpriseDirection = (z: number, warm: boolean) => (!warm ? 0 : z >= Z_RUN ? 1 : z <= -Z_RUN ? -1 : 0);

/** Extends series `i`'s run with `dir` and returns it (signed length). */
export function trackShift(bank: SeriesBank, i: number, dir: number): number {
  const run = bank.run[i]!;
  const next = dir === 0 ? 0 : Math.sign(run) === dir ? Math.min(run * dir + 1, 32000) * dir : dir;
  bank.run[i] = next;
  return next;
}

/** Whether a run has lasted long enough to be taken as the new level. */
export const acceptsShift = (bank: SeriesBank, run: number) => Math.abs(run) >= bank.layout.acceptShiftAfter;

/** Bits of `trackCycles`' answer (a number, to keep the hot loop allocation-free). */
export const DAILY_CHANGED = 1;
export const WEEKLY_CHANGED = 2;

const nextMark = (mark: number, dir: number) => (dir === 0 ? 0 : Math.sign(mark) === dir ? Math.max(-MARK_CAP, Math.min(MARK_CAP, mark + dir)) : dir);
const repeats = (mark: number, dir: number) => dir !== 0 && Math.sign(mark) === dir && Math.abs(mark) >= CYCLE_REPEATS;

/** Records this visit's surprise at daily slot `di` and weekly slot `wi`; says which cycle moved (DAILY_CHANGED | WEEKLY_CHANGED). */
export function trackCycles(bank: SeriesBank, di: number, wi: number, dir: number, run: number): number {
  const slotDir = Math.abs(run) > SHORT_EXCURSION ? 0 : dir;
  const dailyMark = bank.dailyMark[di]!;
  const weeklyMark = bank.weeklyMark[wi]!;
  bank.dailyMark[di] = nextMark(dailyMark, slotDir);
  bank.weeklyMark[wi] = nextMark(weeklyMark, slotDir);
  return (bank.layout.daily.buckets > 1 && repeats(dailyMark, slotDir) ? DAILY_CHANGED : 0) | (repeats(weeklyMark, slotDir) ? WEEKLY_CHANGED : 0);
}
