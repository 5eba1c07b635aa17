import type { SeriesBank } from "./bank.ts";
import { meanLevel } from "./baseline.ts";

/**
 * Slow drift: a level that moves a few residual scales over days is absorbed by the
 * baseline (its level and, in part, its cycles) without any single interval being
 * surprising. Beside the level with its cycles averaged out, a reference follows it with a
 * memory of three weeks; when the two part by DRIFT_SCALES
 * residual scales, the drift is reported, once, and the reference is moved to the level, so
 * a further drift of as much is reported again. A shift accepted as the new level (change.ts)
 * was reported as anomalies already and moves the reference with it.
 */
export const DRIFT_SCALES = 2;
const MEMORY_MS = 21 * 86_400_000;

/** Starts the reference at the level (the model turned warm, or the level jumped). */
export function resetDrift(bank: SeriesBank, i: number): void {
  bank.driftRef[i] = meanLevel(bank, i);
}

/**
 * How far series `i`'s level has drifted from its reference, when that reaches DRIFT_SCALES
 * of residual scale `scale` (0 otherwise); then the reference follows the level.
 */
export function driftOf(bank: SeriesBank, i: number, scale: number): number {
  const level = meanLevel(bank, i);
  const ref = bank.driftRef[i]!;
  if (Math.abs(level - ref) >= DRIFT_SCALES * scale) {
    bank.driftRef[i] = level;
    return level - ref;
  }
  bank.driftRef[i] = ref + Math.min(1, bank.intervalMs / MEMORY_MS) * (level - ref);
  return 0;
}
