/**
 * Change detection: telling a new normal from an incident, with two run counters.
 * - Level shifts: consecutive anomalies in one direction (a one-sided run test, like a
 *   CUSUM with a hard threshold, Page 1954). Once a run lasts `acceptShiftAfter`
 *   intervals, the shift is taken as the new level.
 * - Cycle changes: a slot of the day or week that surprised the same way on consecutive
 *   visits, in short excursions. On the third such visit the slot re-learns: the cycle
 *   moved, or history taught it an incident.
 */

/** The constants of change detection, read every point: an enum, so that a bundle writes its members in place (docs/engine.md, "Constants in place"). */
export enum Change {
  /** Residuals at least this many scales out count toward a run. */
  Z_RUN = 3,
  /** Runs up to this long may reveal a changed cycle; longer ones are shifts. */
  SHORT_EXCURSION = 4,
  /** Consecutive surprised visits before a slot re-learns (this visit makes the third). */
  CYCLE_REPEATS = 2,
  MARK_CAP = 3,
  /** Which cycle was seen to move (a number, to keep the hot loop allocation-free): a slot whose mark `repeats` (step.ts). */
  DAILY_CHANGED = 1,
  WEEKLY_CHANGED = 2,
}

/** The direction of a surprise: +1 above, −1 below, 0 none or not yet warm. */
export const surpriseDirection = (z: number, warm: boolean) => (!warm ? 0 : z >= Change.Z_RUN ? 1 : z <= -Change.Z_RUN ? -1 : 0);

/*
 * The helpers below compute every part whatever the direction, then choose: a series'
 * first surprise then runs no operation the compiler has not seen (each would undo its
 * optimised code, mid-interval, for every series).
 */

/** The run after a surprise in direction `dir`, from run `run` (signed length; step.ts keeps it per series). */
export function nextRun(run: number, dir: number): number {
  const same = Math.sign(run) === dir;
  const grown = Math.min(run * dir + 1, 32000) * dir;
  return dir === 0 ? 0 : same ? grown : dir;
}

/** The mark of a slot after a visit surprised in direction `dir` (0: none). */
export function nextMark(mark: number, dir: number): number {
  const same = Math.sign(mark) === dir;
  const grown = Math.max(-Change.MARK_CAP, Math.min(Change.MARK_CAP, mark + dir));
  return dir === 0 ? 0 : same ? grown : dir;
}

/** Whether this visit, surprised in direction `dir`, makes the slot's third surprised visit in a row. */
export function repeats(mark: number, dir: number): boolean {
  const same = Math.sign(mark) === dir;
  const often = Math.abs(mark) >= Change.CYCLE_REPEATS;
  return dir !== 0 && same && often;
}
