import type { SeriesBank } from "./bank.ts";
import { dailyRate, meanLevel, weeklyRate } from "./baseline.ts";
import { Change, nextMark, nextRun, repeats, surpriseDirection } from "./change.ts";
import { Drift } from "./drift.ts";
import { EventLayer, eventSeverity, holdEvent, restartEvents } from "./event.ts";
import { Scale, scaleFloor } from "./scale.ts";

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

/** The engine's learning constants: CLIP_Z, a residual beyond this many scales is treated as an anomaly when learning; MAX_VALUE (an enum, so that a bundle writes its members in place (docs/engine.md, "Constants in place")). */
export enum Learning {
  CLIP_Z = 3,
  /** The largest magnitude scored and learned: the model keeps values in 32-bit floats (3.4e38 at most), and one that overflowed them would make the series' state NaN for good. */
  MAX_VALUE = 1e30,
}

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
 *
 * One pass over the series' state, run for every point of every series: the baseline, the
 * scale, change detection and the event's hold are read and learned here rather than in
 * calls, so each array is read once and each index computed once, and no number is boxed
 * across a call the compiler does not inline; the event layer (event.ts) takes the residual
 * and gives the severity through `out`. What each part means, and its constants, stay with
 * its module (baseline.ts, scale.ts, change.ts, drift.ts); every expression keeps its
 * order of operations, so results are the same to the bit.
 */
export function step(bank: SeriesBank, i: number, k: number, x: number, out: StepResult, learnOnly = false): void {
  // Not finite, or beyond what the state's 32-bit floats hold: neither scored nor learned.
  if (!(x >= -Learning.MAX_VALUE && x <= Learning.MAX_VALUE)) return nothing(out, NaN);
  const { layout } = bank;
  const seen = bank.seen[i]!;
  if (bank.integral[i] && !Number.isInteger(x)) bank.integral[i] = 0;
  if (seen === 0) {
    bank.level[i] = x;
    bank.seen[i] = 1;
    return nothing(out, x);
  }
  const { daily, weekly, firstCycle, warmup } = layout;
  // The slots are slot-major (bank.ts): this interval's slot of every series side by side.
  const stride = bank.capacity;
  const at = bank.places.of(k, stride);
  const di = at.dailyBase + i;
  const wi = at.weeklyBase + i;
  const warm = seen >= warmup;

  // Predict (baseline.ts) and judge by the residual scale (scale.ts).
  const level = bank.level[i]!;
  const dailySlot = bank.daily[di]!;
  const weeklySlot = bank.weekly[wi]!;
  const expected = level + dailySlot + weeklySlot;
  const r = x - expected;
  const s = bank.scale[i]!;
  const floor = scaleFloor(expected, bank.integral[i] === 1);
  const scaleBelow = Math.max(s * bank.toleranceDown[i]!, floor);
  const scaleAbove = Math.max(s * bank.toleranceUp[i]!, floor);
  const base = Math.max(s, floor);
  const scale = r >= 0 ? scaleAbove : scaleBelow;
  const z = r / scale;
  out.expected = expected;
  out.scale = scale;
  out.scaleBelow = scaleBelow;
  out.scaleAbove = scaleAbove;
  out.z = z;
  // The event follows the interval's own deviation: a drift is reported once and holds no incident open, so an incident that follows it is alerted at its own onset.
  if (seen === warmup) restartEvents(bank, i);
  const left = bank.eventLeft[i]!;
  // The tails are held while the event is open, until tailsHeld intervals after the anomaly that opened it (layout.ts); an event of a model saved before format 8 (began NaN) holds none.
  const held = left > 0 && k - bank.eventSince[i]! < layout.tailsHeld;
  eventSeverity(bank, i, at, x, learnOnly || !warm, held, out);
  const deviation = out.score;
  out.ongoing = left > 0;
  out.drift = 0;

  // Change detection (change.ts): the run of same-direction surprises, then the cycles' marks.
  const dir = surpriseDirection(r / base, warm);
  const run = nextRun(bank.run[i]!, dir);
  bank.run[i] = run;
  bank.seen[i] = seen + 1;
  const dailyTotal = bank.dailyTotal[i]!;
  const weeklyTotal = bank.weeklyTotal[i]!;
  if (Math.abs(run) >= layout.acceptShiftAfter) {
    // A shift that lasted: jump to it, keep the seasonal shape, count afresh; the drift's reference moves with it.
    const shifted = level + r;
    bank.level[i] = shifted;
    bank.run[i] = 0;
    bank.driftRef[i] = meanLevel(layout, shifted, dailyTotal, weeklyTotal);
    out.open = holdEvent(bank, i, k, left, deviation);
    return;
  }
  const slotDir = Math.abs(run) > Change.SHORT_EXCURSION ? 0 : dir;
  // The marks are written whether or not the point surprised its slots (a mark is cleared
  // when not), so a series' first surprise runs the code every point runs (change.ts).
  const dailyMark = bank.dailyMark[di]!;
  const weeklyMark = bank.weeklyMark[wi]!;
  bank.dailyMark[di] = nextMark(dailyMark, slotDir);
  bank.weeklyMark[wi] = nextMark(weeklyMark, slotDir);
  const moved = (daily.buckets > 1 && repeats(dailyMark, slotDir) ? Change.DAILY_CHANGED : 0) | (repeats(weeklyMark, slotDir) ? Change.WEEKLY_CHANGED : 0);

  // Learn (baseline.ts): clipped from the first cycle on, so that an incident while the model is young is not learned as the cycle.
  const limit = Learning.CLIP_Z * base;
  const rc = seen > firstCycle && moved === 0 ? Math.max(-limit, Math.min(limit, r)) : r;
  // The rates of this point count, kept by the bank (baseline.ts); a cycle that moved re-learns faster.
  const learning = bank.learning.at(seen);
  const aD = moved === 0 ? learning.daily : dailyRate(layout, seen, moved);
  const aW = moved === 0 ? learning.weekly : weeklyRate(layout, seen, moved);
  const aL = learning.level;
  let rest = rc;
  const dD = aD * rest;
  bank.daily[di] = dailySlot + dD;
  const dailyTotalNow = dailyTotal + dD;
  bank.dailyTotal[i] = dailyTotalNow;
  rest -= dD;
  const dW = aW * rest;
  bank.weekly[wi] = weeklySlot + dW;
  const weeklyTotalNow = weeklyTotal + dW;
  bank.weeklyTotal[i] = weeklyTotalNow;
  rest -= dW;
  const levelNow = level + aL * rest;
  bank.level[i] = levelNow;

  // The scale (scale.ts) starts after the first cycle, whose residuals are the cycle itself, at 1/n, then at the layout's rate; once warm, residuals are capped.
  if (seen >= firstCycle) {
    const a = learning.scale;
    const size = Math.abs(r);
    const capped = seen > firstCycle && warm ? Math.min(size, 2 * limit) : size;
    bank.scale[i] = s + a * (Scale.MAD_TO_SIGMA * capped - s);
  }

  // Slow drift (drift.ts), of the level with its cycles averaged out (baseline.ts' meanLevel, written out here).
  if (seen === warmup) bank.driftRef[i] = levelNow + dailyTotalNow / daily.buckets + weeklyTotalNow / weekly.buckets;
  else if (warm) {
    const mean = levelNow + dailyTotalNow / daily.buckets + weeklyTotalNow / weekly.buckets;
    const ref = bank.driftRef[i]!;
    const d = Math.abs(mean - ref);
    const wander = bank.driftWander[i]!;
    const rate = layout.driftRate;
    if (d >= Drift.DRIFT_SCALES * base && d >= Drift.WANDER_TIMES * wander) {
      bank.driftRef[i] = mean;
      const drift = mean - ref;
      if (drift !== 0 && !learnOnly) {
        out.drift = drift;
        out.score = Math.max(deviation, EventLayer.EVENT_SCORE);
      }
    } else {
      bank.driftWander[i] = wander + rate * (d - wander);
      bank.driftRef[i] = ref + rate * (mean - ref);
    }
  }
  out.open = holdEvent(bank, i, k, left, deviation);
}
