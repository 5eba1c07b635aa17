/**
 * The residual scale: an exponentially weighted mean absolute residual, times √(π/2) so it
 * reads as σ for Gaussian noise (a robust scale in the spirit of Huber's M-estimators:
 * large residuals are capped before they are averaged, so one incident cannot inflate it).
 * It learns after the first cycle, whose residuals are the cycle itself, at 1/n, then at
 * the layout's rate. A residual is judged by it without feedback (what learning uses, so a
 * verdict changes what is reported, not what is learned), and widened by feedback on each
 * side of expected (a spike judged harmless does not hide a dip), never below the floor.
 * step.ts does both, in its one pass over a series.
 */

/** The residual scale's constant, read every point: an enum, so that a bundle writes its members in place (docs/engine.md, "Constants in place"). */
export enum Scale {
  /** √(π/2): mean absolute deviation → standard deviation, for Gaussian noise. */
  MAD_TO_SIGMA = 1.2533,
}

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
