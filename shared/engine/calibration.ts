/**
 * Severity means the same rarity on every series. Each detector of the event layer states
 * how rare what it sees is, as −log10 of a chance per interval (its rarity); the severity
 * is 100 · (1 − exp(−rarity / SCALE)), so that 70 is one interval in 2,000 (RARITY_AT_70),
 * 90 one in 10^6.3, 99 one in 10^12.6. The curve approaches 100 without reaching it, and
 * rarities beyond one in 10^15 are compressed (no model knows such odds), so the rarest
 * events still rank apart.
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

/** −log10 of the one-sided Gaussian tail P(Z > z), in log space so that large z stays finite. */
export function gaussianRarity(z: number): number {
  const a = z / Math.SQRT2;
  if (a < 5) return -Math.log10(erfc(a) / 2);
  // erfc(a) ≈ exp(−a²)/(a√π) for large a.
  return (a * a + Math.log(2 * a * Math.sqrt(Math.PI))) / Math.LN10;
}

/** ln Γ(x) for x > 0 (Lanczos, Numerical Recipes' gammln). */
function lnGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  let tmp = x + 5.5;
  tmp -= (x + 0.5) * Math.log(tmp);
  let ser = 1.000000000190015;
  for (const ci of c) ser += ci / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Continued fraction of the incomplete beta function (Numerical Recipes' betacf, modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 200; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 3e-14) break;
  }
  return h;
}

/** −log10 of the two-sided tail P(|T| > t) of a Student t with ν degrees of freedom (the regularised incomplete beta I at ν/(ν + t²)). */
export function studentRarity(t: number, nu: number): number {
  if (!(t > 0)) return 0;
  const x = nu / (nu + t * t);
  const a = nu / 2;
  const b = 0.5;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return -(lnFront + Math.log(betaFraction(a, b, x) / a)) / Math.LN10;
  return -Math.log10(Math.max(1e-300, 1 - (Math.exp(lnFront) * betaFraction(b, a, 1 - x)) / b));
}

/** Rarities beyond one in 10^15 are compressed: no model knows such odds, but larger still ranks higher. */
const TRUSTED = 15;

/**
 * The rarity at which the severity reaches 70, L4M's default alert threshold: one interval
 * in 2,000, a little over a week of 5-minute data, under three months of hourly data. A
 * quiet series stays well under one alert a month (bench: quiet).
 */
export const RARITY_AT_70 = 3.3;
const SCALE = RARITY_AT_70 / -Math.log(1 - 0.7);

/**
 * The shortest interval severity is calibrated for: L4M's finest, PT5M. A shorter interval
 * (PT1M, or the step `vigil score` meets) is judged per five minutes: its rarity is that of
 * the chance that any of the intervals in five minutes is as rare (rarityOverIntervals). A
 * series then alarms no more often a day at PT1M than at PT5M, where one interval in 2,000
 * would otherwise be five times the alerts: a minute series is finer in time, not noisier
 * to its owner.
 */
export const CALIBRATED_INTERVAL_MS = 300_000;
/** How many intervals of `intervalMs` one calibrated interval holds: 1 at L4M's frequencies, 5 at PT1M. */
export const intervalsPerCalibrated = (intervalMs: number) => (intervalMs < CALIBRATED_INTERVAL_MS ? CALIBRATED_INTERVAL_MS / intervalMs : 1);

/**
 * The rarity of "any of m intervals is as rare as `rarity`": −log10(1 − (1 − p)^m) for
 * p = 10^−rarity (Šidák), exact, so it stays above 0 and keeps distinct rarities distinct;
 * past 10^−100, where p underflows soon, it is log10 m off the rarity, as the exact one is there.
 */
export function rarityOverIntervals(rarity: number, m: number): number {
  if (!(rarity > 0)) return 0;
  if (rarity > 100) return rarity - Math.log10(m);
  return -Math.log10(-Math.expm1(m * Math.log1p(-(10 ** -rarity))));
}

/** The severity (0–100) of an event whose chance per interval is 10^−rarity. */
export function scoreOfRarity(rarity: number): number {
  if (!(rarity > 0)) return 0;
  const r = rarity <= TRUSTED ? rarity : TRUSTED + Math.log10(1 + (rarity - TRUSTED));
  return 100 * -Math.expm1(-r / SCALE);
}

/** The rarity whose severity is `score` (the inverse of scoreOfRarity, below one in 10^15). */
export const rarityOfScore = (score: number) => -Math.log(1 - score / 100) * SCALE;

/**
 * The band of normal values shown with an anomaly, in residual scales either side of
 * expected: where a lone residual of a calm (Gaussian) series reaches severity 70.
 */
export const BAND_Z = 5;
