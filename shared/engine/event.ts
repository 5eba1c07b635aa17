import { Kept, type SeriesBank } from "./bank.ts";
import type { IntervalPlaces } from "./layout.ts";
import { gaussianRarity, rarityOverIntervals, scoreOfRarity } from "./calibration.ts";
import { beyondBlocks, closeBlock, Records } from "./records.ts";
import { quantised, recordRecurs, rememberSurprise, Routine, routineOf } from "./routine.ts";
import { restartTails, tailRarity } from "./tails.ts";

/**
 * The event layer: what makes an interval an event worth a severity, on top of the
 * baseline's residual z. Three detectors each state a rarity (−log10 of a chance per
 * interval), and the severity is that of the rarest (calibration.ts):
 *
 * 1. One residual far out for this series' own tails (tails.ts): a clean break.
 * 2. The likelihood of the last SHORT residual sizes, after Numenta's "anomaly likelihood"
 *    (Ahmad, Lavin, Purdy, Agha 2017, "Unsupervised real-time anomaly detection for
 *    streaming data"): the mean of the last sizes log(1 + |z|) against the long-run
 *    distribution of the series' own sizes. A heavy-tailed series stops alarming on its
 *    ordinary bursts; a calm one alarms on a small but sustained change. It speaks at the
 *    intervals that are part of the change, not at the calm ones after it.
 * 3. A record (records.ts): a value further out than any of the last days, which residuals
 *    miss on bursty series.
 *
 * A surprise no larger than one seen about this time a day ago, or like one seen a day or
 * a week ago that was itself a repeat, is a routine (routine.ts) and reports nothing; a
 * record at the time of a record the day before likewise.
 */

/** The layer's constants, read every point: an enum, so that a bundle writes its members in place (docs/engine.md, "Constants in place"). */
export enum EventLayer {
  /** Long-run statistics of residual sizes learn at this rate: a memory of about 2,000 points. */
  LONG_RATE = 0.0005,
  /** Points of history before any likelihood is reported. */
  MIN_HISTORY = 50,
  /** Floor of the long-run spread of residual sizes, so float noise on a flat series stays ordinary. */
  SPREAD_FLOOR = 0.05,
  /**
   * What the likelihood's Gaussian rarity counts for: the last SHORT sizes of a real series
   * are neither independent nor Gaussian, and a change shows in several windows in a row, so
   * its nominal rarity overstates it (NAB's development set: 0.44–0.48 is a plateau).
   */
  LIKELIHOOD_WEIGHT = 0.46,
  /** A surprise of this quantised size (|z| ≈ 1.7) or more is remembered with whether it was a weekly repeat (routine.ts). */
  NOTABLE = 8,
  /** The current size must be at least this share of the recent mean for the likelihood to speak. */
  PART_OF_CHANGE = 0.5,
  /** An interval at or above this severity is an anomaly: L4M's default alert threshold. It opens or renews its series' event. */
  EVENT_SCORE = 70,
}

/** √n for the n ≤ SHORT sizes kept, as Math.sqrt gives it: a table read, not a square root per point. */
const ROOT_OF = Float64Array.from({ length: Kept.SHORT + 1 }, (_, n) => Math.sqrt(n));

export const sizeOf = (z: number) => Math.log1p(Math.min(Math.abs(z), 1e6));

/** Forgets the long-run statistics of residuals, as when they change footing (the seasonal model turned warm). */
export function restartEvents(bank: SeriesBank, i: number): void {
  bank.sizeMean[i] = 0;
  bank.sizeVar[i] = 0;
  bank.sizeCount[i] = 0;
  restartTails(bank, i);
}

/**
 * The severity of series `i` at the interval `at` (layout.ts' IntervalPlaces), whose value is `x` and residual `out.z`,
 * into `out.score`; learns them. With `silent` (history, or a model still warming up),
 * everything is learned (but the tails, with `held`) and the severity is 0. With `held`
 * (the series' event was open when the interval came, and younger than the layout's
 * tailsHeld), the tails learn nothing (tails.ts). The layer watches from the first point, so
 * its memory of the last cycle is full when reporting starts; step.ts restarts its
 * statistics of residuals (restartEvents) when the seasonal model turns warm, because the
 * residuals of a learning model are on another footing.
 *
 * One pass over the series' event state: the record test and the likelihood are written out
 * here rather than called, each array read once, and the residual and severity pass through `out`, because
 * this runs for every point and a number passed to or returned from a call the compiler
 * does not inline is boxed.
 */
export function eventSeverity(bank: SeriesBank, i: number, at: IntervalPlaces, x: number, silent: boolean, held: boolean, out: { readonly z: number; routine: boolean; score: number }): void {
  const z = out.z;
  const u = sizeOf(z);
  const q = quantised(u);
  // Whether x is a record (records.ts): the largest distance from the long-run mean of the
  // last blocks of values. `+x` is x, read as a double: a choice between the argument as
  // passed and the array's double was a boxed number, made every point.
  const recSeen = bank.recSeen[i]!;
  const recMean = recSeen === 0 ? +x : bank.recMean[i]!;
  const raw = Math.abs(x - recMean);
  const blocks = bank.recBlocks[i]!;
  const inBlock = bank.recCount[i]!;
  const current = bank.recCur[i]!;
  let record = 0;
  if ((blocks > 0 || inBlock >= Records.MIN_RECORD) && !(bank.integral[i] && Math.abs(recMean) < Records.MIN_COUNT_MEAN)) {
    const tolerance = x >= recMean ? bank.toleranceUp[i]! : bank.toleranceDown[i]!;
    // Most series have no verdict: a division by 1 is skipped.
    const beyond = tolerance === 1 ? raw : raw / tolerance;
    // Most values are within the block under way: the blocks before it are read only for one that is not.
    if (!(inBlock > 0 && beyond <= current)) record = beyondBlocks(bank, i, beyond, inBlock, blocks);
  }
  // Learn the untolerated distance: feedback changes what is reported, not what is learned.
  const recRate = recSeen + 1 >= Records.MEAN_MEMORY ? 1 / Records.MEAN_MEMORY : Math.max(1 / Records.MEAN_MEMORY, 1 / (recSeen + 1));
  bank.recMean[i] = recMean + recRate * (x - recMean);
  if (recSeen < 4294967295) bank.recSeen[i] = recSeen + 1;
  bank.recCur[i] = inBlock === 0 ? raw : Math.max(current, raw);
  if (inBlock + 1 < Records.RECORD_BLOCK) bank.recCount[i] = inBlock + 1;
  else closeBlock(bank, i, blocks);

  // The likelihood of the last SHORT sizes, u the newest (see the top of this file); then u is learned.
  const sizeRing = bank.sizeRing;
  const n = bank.sizeCount[i]!;
  const ring = i * Kept.SHORT;
  const newest = n % Kept.SHORT;
  sizeRing[ring + newest] = u;
  const kept = Math.min(Kept.SHORT, n + 1);
  const mean = bank.sizeMean[i]!;
  const variance = bank.sizeVar[i]!;
  let likely = 0;
  // The likelihood speaks only when u ≥ PART_OF_CHANGE · short > mean: never when 2u ≤ mean
  // (PART_OF_CHANGE is ½, exact in floating point), and then the ring is not walked.
  if (n > EventLayer.MIN_HISTORY && !(u / EventLayer.PART_OF_CHANGE <= mean)) {
    const spread = (Math.sqrt(variance) + EventLayer.SPREAD_FLOOR) / ROOT_OF[kept]!;
    // Nor when 2u − mean ≤ 2 · spread: it needs zl = (short − mean) / spread > 2, so short − mean
    // > 2 · spread, and short ≤ 2u; rounding keeps that order, so such a u is skipped to the bit.
    if (!(u / EventLayer.PART_OF_CHANGE - mean <= 2 * spread)) {
      // Past MIN_HISTORY the ring is full: its SHORT sizes summed newest first, back round the
      // ring, written out (a loop cost more than the sum), in the order they always were.
      let t = newest;
      let short = 0 + sizeRing[ring + t]!;
      t = t === 0 ? Kept.SHORT - 1 : t - 1;
      short += sizeRing[ring + t]!;
      t = t === 0 ? Kept.SHORT - 1 : t - 1;
      short += sizeRing[ring + t]!;
      t = t === 0 ? Kept.SHORT - 1 : t - 1;
      short += sizeRing[ring + t]!;
      t = t === 0 ? Kept.SHORT - 1 : t - 1;
      short += sizeRing[ring + t]!;
      t = t === 0 ? Kept.SHORT - 1 : t - 1;
      short += sizeRing[ring + t]!;
      short /= kept;
      // Recent sizes at or below the long-run mean cannot be rare.
      if (u >= EventLayer.PART_OF_CHANGE * short && short > mean) {
        const zl = (short - mean) / spread;
        // Below 2 its rarity could not count anyway: skip the tail.
        if (zl > 2) likely = gaussianRarity(zl) * EventLayer.LIKELIHOOD_WEIGHT;
      }
    }
  }
  const a = n < 1 / EventLayer.LONG_RATE ? 1 / (n + 1) : EventLayer.LONG_RATE;
  const d = u - mean;
  bank.sizeMean[i] = mean + a * d;
  bank.sizeVar[i] = (1 - a) * (variance + a * d * d);
  if (n < 4294967295) bank.sizeCount[i] = n + 1;

  let rarity = Math.max(likely, tailRarity(bank, i, z, held));
  // Whether it is a routine matters when a detector speaks, or for remembering a surprise large enough to excuse a later one.
  const kinds = rarity > 0 || q >= EventLayer.NOTABLE ? routineOf(bank, i, at, q) : 0;
  out.routine = (kinds & Routine.ROUTINE) !== 0 && q >= EventLayer.NOTABLE;
  if (kinds & Routine.ROUTINE) rarity = 0;
  if (record > 0 && !recordRecurs(bank, i, at)) rarity = Math.max(rarity, record);
  rememberSurprise(bank, i, at, q, kinds, record > 0);
  // Most intervals are rare in nothing: their severity is 0, as scoreOfRarity gives. At L4M's
  // frequencies an interval is a calibrated one: nothing to judge over several.
  out.score = silent || !(rarity > 0) ? 0 : scoreOfRarity(bank.layout.perCalibrated === 1 ? rarity : rarityOverIntervals(rarity, bank.layout.perCalibrated));
}

/**
 * Keeps series `i`'s event open while its deviation persists: an anomaly at or above the
 * alert threshold (re)opens it for the layout's eventHold intervals, and one that opens it, at
 * interval `k`, is when it began (NaN once it has closed, as in a model saved before format 8).
 * `left` is what was left of it before this interval. Returns whether it is open after this
 * interval.
 */
export function holdEvent(bank: SeriesBank, i: number, k: number, left: number, severity: number): boolean {
  if (severity >= EventLayer.EVENT_SCORE) {
    bank.eventLeft[i] = bank.layout.eventHold;
    bank.eventPeak[i] = left > 0 ? Math.max(bank.eventPeak[i]!, severity) : severity;
    if (left === 0) bank.eventSince[i] = k;
    return true;
  }
  if (left > 0) bank.eventLeft[i] = left - 1;
  if (left <= 1) {
    bank.eventPeak[i] = 0;
    bank.eventSince[i] = NaN;
  }
  return left > 1;
}
