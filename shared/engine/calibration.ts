/**
 * Scores mean the same rarity on every series: a residual is first standardised by its
 * series' own robust scale (z), then z is mapped to 0–100 through the two-sided Gaussian
 * tail probability p: score = 100 · (1 − exp(−(−log10 p) / SCALE)). So 50 ≈ 1 in 10^4,
 * 70 ≈ 1 in 10^7 (|z| ≈ 5.3), 90 ≈ 1 in 10^13, whatever the series' size or noise; the
 * curve approaches 100 without reaching it, so the rarest events still rank apart.
 */

/** erfc with fractional error < 1.2e-7 (Numerical Recipes' erfcc, Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

const LN10 = Math.LN10;

/** −log10 of the two-sided tail probability of |z|, computed in log space so large z stays finite. */
export function tailLog10(z: number): number {
  const a = Math.abs(z) / Math.SQRT2;
  if (a < 5) return -Math.log10(erfc(a));
  // erfc(a) ≈ exp(−a²)/(a√π) for large a.
  return (a * a + Math.log(a * Math.sqrt(Math.PI))) / LN10;
}

/** −log10 p at which the score reaches 70: one in ten million. */
const LOG10_P_AT_70 = 7;
const SCALE = LOG10_P_AT_70 / -Math.log(1 - 0.7);

export function scoreOfZ(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? 0 : 100;
  return 100 * -Math.expm1(-tailLog10(z) / SCALE);
}

/** The |z| at which the score reaches `score` (bisection; scoreOfZ is monotone in |z|). */
export function zOfScore(score: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (scoreOfZ(mid) < score) lo = mid;
    else hi = mid;
  }
  return hi;
}
