import type { SeriesBank } from "./bank.ts";

/**
 * The residual scale: an exponentially weighted mean absolute residual, times √(π/2) so it
 * reads as σ for Gaussian noise (a robust scale in the spirit of Huber's M-estimators:
 * large residuals are capped before they are averaged, so one incident cannot inflate it).
 */

/** √(π/2): mean absolute deviation → standard deviation, for Gaussian noise. */
const MAD_TO_SIGMA = 1.2533;

/**
 * The smallest scale a series may have, so flat or near-zero series do not score 1 → 3
 * as a catastrophe: for counts, Poisson noise (√mean), faded out as counts grow large
 * enough for their own history to tell their noise.
 */
export function scaleFloor(expected: number, integral: boolean): number {
  const size = Math.abs(expected);
  const relative = 1e-3 * size + 1e-9;
  return integral ? Math.max(relative, Math.sqrt(Math.max(size, 1)) * Math.exp(-size / 50)) : relative;
}

/**
 * The scales a residual is judged by, never below the floor: without feedback (what
 * learning uses, so a verdict changes what is reported, not what is learned), and widened
 * by feedback on each side of expected (a spike judged harmless does not hide a dip).
 * Written into `out`, so the hot loop allocates nothing.
 */
export function judgingScales(bank: SeriesBank, i: number, expected: number, out: { scaleBelow: number; scaleAbove: number }): number {
  const s = bank.scale[i]!;
  const floor = scaleFloor(expected, bank.integral[i] === 1);
  out.scaleBelow = Math.max(s * bank.toleranceDown[i]!, floor);
  out.scaleAbove = Math.max(s * bank.toleranceUp[i]!, floor);
  return Math.max(s, floor);
}

/**
 * Learns residual `r`. It starts after the first cycle, whose residuals are the cycle
 * itself, at 1/n, then at the layout's rate; once warm, residuals are capped at `cap`.
 */
export function learnScale(bank: SeriesBank, i: number, r: number, seen: number, warm: boolean, cap: number): void {
  const { firstCycle, rates } = bank.layout;
  if (seen < firstCycle) return;
  const a = Math.max(rates.scale, 1 / (seen - firstCycle + 1));
  const size = Math.abs(r);
  const prior = bank.scale[i]!;
  const capped = seen > firstCycle && warm ? Math.min(size, cap) : size;
  bank.scale[i] = prior + a * (MAD_TO_SIGMA * capped - prior);
}
