/**
 * Slow drift: a level that moves a few residual scales over days is absorbed by the
 * baseline (its level and, in part, its cycles) without any single interval being
 * surprising. Beside the level with its cycles averaged out, a reference follows it with a
 * memory of three weeks; when the two part by DRIFT_SCALES residual scales and by
 * WANDER_TIMES their usual distance, the drift is reported, once, and the reference is
 * moved to the level, so a further drift of as much is reported again. A shift accepted as
 * the new level (change.ts) was reported as anomalies already and moves the reference with it.
 */
const MEMORY_MS = 21 * 86_400_000;
/** The thresholds of a drift, read every point: an enum, so that a bundle writes its members in place (docs/engine.md, "Constants in place"). */
export enum Drift {
  /** Residual scales between the level and its reference that make a drift. */
  DRIFT_SCALES = 2,
  /**
   * A drift must also be this many times as far as the level usually strays from its
   * reference: a level that wanders by habit (a random walk, swings over days or weeks,
   * a weekly pattern the slots have not learned) is not drifting when it wanders as usual.
   * AIOps KPIs: 4 / 6 / 8 give 147 / 126 / 117 false alarms (243 without); NAB's development
   * set 67.90 / 69.16 / 69.16 (69.36 without); 12 misses a drift of 3 scales over three days.
   */
  WANDER_TIMES = 6,
}

/** How fast the reference follows the level, per interval of `intervalMs`: a memory of three weeks. */
export const driftRate = (intervalMs: number) => Math.min(1, intervalMs / MEMORY_MS);

/*
 * step.ts judges and learns the drift in its one pass over a series: how far the level, with
 * its cycles averaged out, has drifted from its reference; when that reaches DRIFT_SCALES of
 * the residual scale and WANDER_TIMES its usual distance, the drift is reported and the
 * reference jumps to the level; otherwise the reference follows the level at driftRate and
 * the usual distance learns this one. The reference starts at the level when the model
 * turns warm or the level jumps.
 */
