import type { SeriesBank } from "./bank.ts";
import { RARITY_AT_70 } from "./calibration.ts";
import { rarityOfResidual } from "./tails.ts";

/**
 * A person's verdict on one series at one time (L4M's `IsAnomaly`), applied to its state.
 * "Not an anomaly" widens the series' tolerance on that side of expected (`z` is signed:
 * above or below), so that a deviation of the same size and direction scores below the
 * alert threshold from then on, while the other direction stays as sensitive; "an anomaly"
 * keeps that side as sensitive as it is, and undoes part of an earlier widening. The
 * tolerance divides the residual scale on that side, so every detector of the event layer
 * sees the deviation smaller, and the distance a record is judged by (records.ts).
 */

/** Headroom beyond the reported deviation, so a slightly larger one stays quiet too. */
const MARGIN = 1.1;
/** A tolerance never grows past this: feedback can quieten a series, not mute it. */
const MAX_TOLERANCE = 20;

export function applyFeedback(bank: SeriesBank, slot: number, isAnomaly: boolean, z: number): void {
  if (!Number.isFinite(z)) return;
  const side = z >= 0 ? bank.toleranceUp : bank.toleranceDown;
  const current = side[slot]!;
  if (isAnomaly) {
    side[slot] = Math.max(1, current * 0.5);
    return;
  }
  // z was measured with the tolerance then in force; widen relative to the series' own scale.
  const needed = (Math.abs(z) * current * MARGIN) / quietZ(bank, slot);
  side[slot] = Math.min(MAX_TOLERANCE, Math.max(current, needed));
}

/** The largest |z| a lone residual of series `i` may have and stay below the alert threshold (bisection on its tail model). */
export function quietZ(bank: SeriesBank, i: number): number {
  let lo = 0;
  let hi = 1e6;
  if (rarityOfResidual(bank, i, hi) < RARITY_AT_70) return hi;
  for (let n = 0; n < 60; n++) {
    const mid = Math.sqrt(Math.max(lo, 1e-3) * hi);
    if (rarityOfResidual(bank, i, mid) < RARITY_AT_70) lo = mid;
    else hi = mid;
  }
  return lo;
}
