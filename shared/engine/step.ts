import type { SeriesBank } from "./bank.ts";
import { expectedValue, learnBaseline } from "./baseline.ts";
import { acceptsShift, surpriseDirection, trackCycles, trackShift } from "./change.ts";
import { resetDrift, driftOf } from "./drift.ts";
import { EVENT_SCORE, eventSeverity, trackEvent } from "./event.ts";
import { slotOf } from "./layout.ts";
import { judgingScales, learnScale } from "./scale.ts";

/**
 * One causal step for one series: predict the interval (baseline.ts), judge the value by
 * the series' residual scale (scale.ts), score it (calibration.ts), then learn from it.
 * Anomalous values are clipped before learning so an incident does not drag the baseline
 * with it, unless change detection (change.ts) says the normal itself moved.
 */

/** Where one step writes its result, reused across calls to keep the hot loop allocation-free. */
export interface StepResult {
  expected: number;
  /** Robust residual scale after floors and feedback, in the series' units, on the side of expected the value fell. */
  scale: number;
  /** The same on each side, for the band shown: expected − BOUND·below … expected + BOUND·above. */
  scaleBelow: number;
  scaleAbove: number;
  z: number;
  /** Severity 0–100 of this interval (event.ts). */
  score: number;
  /** Whether this interval's surprise is a routine (routine.ts): it reports nothing. */
  routine: boolean;
  /** Whether the series' event was open when this interval came: it is part of an ongoing incident. */
  ongoing: boolean;
  /** Whether the series' event is still open after this interval: its deviation persists. */
  open: boolean;
  /** A slow drift of the level reported at this interval (drift.ts), in the series' units; 0 when none. Its score is then at least EVENT_SCORE. */
  drift: number;
}

export const newStepResult = (): StepResult => ({ expected: NaN, scale: NaN, scaleBelow: NaN, scaleAbove: NaN, z: 0, score: 0, routine: false, ongoing: false, open: false, drift: 0 });

/** A residual beyond this many scales is treated as an anomaly when learning. */
const CLIP_Z = 3;

function nothing(out: StepResult, expected: number): void {
  out.expected = expected;
  out.scale = NaN;
  out.scaleBelow = NaN;
  out.scaleAbove = NaN;
  out.z = 0;
  out.score = 0;
  out.routine = false;
  out.ongoing = false;
  out.open = false;
  out.drift = 0;
}

/**
 * Scores value `x` of interval index `k` (epoch ms / interval ms) for series `i`, then
 * learns it. With `learnOnly` (history), the score is not computed. A missing value is
 * not passed here at all: gaps leave the state as it was.
 */
export function step(bank: SeriesBank, i: number, k: number, x: number, out: StepResult, learnOnly = false): void {
  if (!Number.isFinite(x)) return nothing(out, NaN);
  const { layout } = bank;
  const seen = bank.seen[i]!;
  if (bank.integral[i] && !Number.isInteger(x)) bank.integral[i] = 0;
  if (seen === 0) {
    bank.level[i] = x;
    bank.seen[i] = 1;
    return nothing(out, x);
  }
  const di = i * layout.daily.buckets + slotOf(layout.daily, k);
  const wi = i * layout.weekly.buckets + slotOf(layout.weekly, k);
  const warm = seen >= layout.warmup;

  const expected = expectedValue(bank, i, di, wi);
  const r = x - expected;
  const base = judgingScales(bank, i, expected, out);
  const scale = r >= 0 ? out.scaleAbove : out.scaleBelow;
  const z = r / scale;
  out.expected = expected;
  out.scale = scale;
  out.z = z;
  out.score = eventSeverity(bank, i, k, x, z, learnOnly || !warm, out);
  out.ongoing = bank.eventLeft[i]! > 0;
  out.drift = 0;

  const dir = surpriseDirection(r / base, warm);
  const run = trackShift(bank, i, dir);
  bank.seen[i] = seen + 1;
  if (acceptsShift(bank, run)) {
    // A shift that lasted: jump to it, keep the seasonal shape, count afresh.
    bank.level[i] = bank.level[i]! + r;
    bank.run[i] = 0;
    resetDrift(bank, i);
    out.open = trackEvent(bank, i, out.score, EVENT_SCORE);
    return;
  }
  const moved = trackCycles(bank, di, wi, dir, run);
  const limit = CLIP_Z * base;
  // Clipped from the first cycle on, so that an incident while the model is young is not learned as the cycle.
  const rc = seen > layout.firstCycle && moved === 0 ? Math.max(-limit, Math.min(limit, r)) : r;
  learnBaseline(bank, i, di, wi, rc, seen, warm, moved);
  learnScale(bank, i, r, seen, warm, 2 * limit);
  // The event follows the interval's own deviation: a drift is reported once and holds no incident open, so an incident that follows it is alerted at its own onset.
  const deviation = out.score;
  if (seen === layout.warmup) resetDrift(bank, i);
  else if (warm) {
    const drift = driftOf(bank, i, base);
    if (drift !== 0 && !learnOnly) {
      out.drift = drift;
      out.score = Math.max(out.score, EVENT_SCORE);
    }
  }
  out.open = trackEvent(bank, i, deviation, EVENT_SCORE);
}
