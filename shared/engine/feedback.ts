import type { SeriesBank } from "./bank.ts";
import { BAND_Z } from "./calibration.ts";

/**
 * A person's verdict on one series at one time (L4M's `IsAnomaly`), applied to its state.
 * "Not an anomaly" widens the series' tolerance on that side of expected (`z` is signed:
 * above or below), so that a deviation of the same size and direction scores below the
 * alert threshold from then on, while the other direction stays as sensitive; "an anomaly"
 * keeps that side as sensitive as it is, and undoes part of an earlier widening.
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
  const needed = (Math.abs(z) * current * MARGIN) / BAND_Z;
  side[slot] = Math.min(MAX_TOLERANCE, Math.max(current, needed));
}
