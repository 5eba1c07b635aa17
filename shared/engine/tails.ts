import type { SeriesBank } from "./bank.ts";
import { studentRarity } from "./calibration.ts";

/**
 * How rare one residual this far out is for this series: its tails, read from the bulk.
 * Two running quantiles of |z| (the 75th and 95th percentiles, by stochastic approximation)
 * say how heavy the series' tails are (their ratio is 1.70 for Gaussian noise, 2.24 for a
 * Student t with 3 degrees of freedom, 5.26 for a Cauchy law); the Student t of that ratio,
 * scaled to the 75th percentile, gives the chance of a residual at least this far out. A
 * spiky series stops alarming on its ordinary spikes, a calm one alarms on a clean break,
 * and an incident does not teach either quantile that it is normal, however often incidents
 * happen: a short one is rarer than one point in twenty, and once it has opened the series'
 * event the quantiles learn nothing until the event closes, or until six hours after it opened
 * (layout.ts' tailsHeld). A long incident would teach them otherwise: three hours at PT1M are
 * 180 points, and 180 steps up lift the 95th percentile 5.5-fold, so the same incident coming
 * back an hour after it ended was no longer rare. One that lasts longer than the hold is the
 * series' new normal (a series turned spiky for good), and they learn it
 * (docs/engine.md, "The tails during an incident").
 */

/** [ratio q95/q75 of |T_ν|, ν, q75 of |T_ν|], heaviest first. */
const FAMILY: readonly (readonly [number, number, number])[] = [
  [25.0868, 0.5, 6.5595],
  [14.7461, 0.6, 4.6008],
  [10.1303, 0.7, 3.614],
  [6.8592, 0.85, 2.8354],
  [5.2631, 1, 2.4142],
  [3.9505, 1.25, 2.0321],
  [3.3003, 1.5, 1.8231],
  [2.6832, 2, 1.6036],
  [2.3977, 2.5, 1.4909],
  [2.237, 3, 1.4226],
  [2.0652, 4, 1.3444],
  [1.9759, 5, 1.3009],
  [1.9216, 6, 1.2733],
  [1.8592, 8, 1.2403],
  [1.8245, 10, 1.2213],
  [1.7811, 15, 1.1967],
  [1.741, 30, 1.1731],
  [1.7147, 100, 1.1571],
  [1.7049, 1000, 1.151],
];

/**
 * The quantiles' constants, read every point: an enum, so that a bundle writes its members
 * in place (docs/engine.md, "Constants in place"); an enum's members are literals, so the
 * factors are written out as the doubles Math.exp gives (tails.test.ts checks them).
 */
export enum Tails {
  /** Points of |z| seen before the quantiles are trusted. */
  MIN_SEEN = 200,
  /** Step of the quantiles' stochastic approximation, in log scale: a memory of a few hundred points. */
  STEP = 0.01,
  /** exp(STEP · 0.75), exp(−STEP · 0.25): the 75th percentile's factors up and down. */
  UP75 = 1.0075281954445339,
  DOWN75 = 0.9975031223974601,
  /** exp(STEP · 0.95), exp(−STEP · 0.05): the 95th percentile's. */
  UP95 = 1.0095452682358568,
  DOWN95 = 0.9995001249791693,
}
/**
 * What one residual's rarity counts for. The fit is anchored on the 75th and 95th
 * percentiles; on a near-Gaussian series (ν ≥ 15) its far tail holds and counts in full,
 * while on a heavy-tailed one (ν ≤ 5: bursts, retries, one bad reading) it understates the
 * farthest tail, and counts for 0.7 (NAB's development set and the quiet series of `npm run
 * bench`; docs/engine.md has the neighbours), in between in proportion.
 */
const HEAVY_NU = 5;
const LIGHT_NU = 15;
const HEAVY_WEIGHT = 0.7;
const weightOf = (nu: number) => HEAVY_WEIGHT + (1 - HEAVY_WEIGHT) * Math.max(0, Math.min(1, (nu - HEAVY_NU) / (LIGHT_NU - HEAVY_NU)));

/** Starts the quantiles afresh at their Gaussian values (z is already in units of the series' scale). */
export function restartTails(bank: SeriesBank, i: number): void {
  bank.q75[i] = 1.15;
  bank.q95[i] = 1.96;
  bank.tailSeen[i] = 0;
}

/** The Student t fitted to series `i`'s tails: its degrees of freedom and the 75th percentile of its |T|. */
function fitted(bank: SeriesBank, i: number): [nu: number, q75nu: number] {
  const ratio = bank.q95[i]! / bank.q75[i]!;
  let j = 1;
  while (j < FAMILY.length - 1 && FAMILY[j]![0] > ratio) j++;
  const [h0, n0, s0] = FAMILY[j - 1]!;
  const [h1, n1, s1] = FAMILY[j]!;
  const f = Math.max(0, Math.min(1, (ratio - h1) / (h0 - h1)));
  return [n1 + f * (n0 - n1), s1 + f * (s0 - s1)];
}

/** The rarity of a lone residual |z| = `a` for series `i`, without learning it. */
export function rarityOfResidual(bank: SeriesBank, i: number, a: number): number {
  const [nu, q75nu] = fitted(bank, i);
  return studentRarity((a * q75nu) / bank.q75[i]!, nu) * weightOf(nu);
}

/** −log10 of the chance of a residual at least as far out as `z`, either side; then learns |z|, unless the tails are `held` (an open event's first hours: step.ts). */
export function tailRarity(bank: SeriesBank, i: number, z: number, held: boolean): number {
  const a = Math.abs(z);
  const q75 = bank.q75[i]!;
  const q95 = bank.q95[i]!;
  const seen = bank.tailSeen[i]!;
  let rarity = 0;
  // Only residuals well out of the bulk can be rare: the tail is computed for them alone. (The
  // size is compared first, from the first point on, so the compiler has seen it when the count is reached.)
  if (a > 2 * q95 && seen >= Tails.MIN_SEEN) rarity = rarityOfResidual(bank, i, a);
  if (held) return rarity;
  bank.q75[i] = q75 * (a > q75 ? Tails.UP75 : Tails.DOWN75);
  bank.q95[i] = q95 * (a > q95 ? Tails.UP95 : Tails.DOWN95);
  if (seen < 65535) bank.tailSeen[i] = seen + 1;
  return rarity;
}
