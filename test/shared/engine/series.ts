import type { SeriesBank } from "../../../shared/engine/bank.ts";
import { newStepResult, step } from "../../../shared/engine/step.ts";

/** A deterministic uniform number in (0, 1) for integer n (a hash), so every run of a test sees the same series. */
export function uniform(n: number, seed = 0): number {
  let h = Math.imul((n + seed * 7919) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x27d4eb2f);
  h ^= h >>> 15;
  return ((h >>> 0) + 0.5) / 4294967296;
}

/** Deterministic standard Gaussian noise for interval k (Box–Muller on uniform()). */
export function noise(k: number, seed = 0): number {
  return Math.sqrt(-2 * Math.log(uniform(2 * k, seed))) * Math.cos(2 * Math.PI * uniform(2 * k + 1, seed));
}

/** A calm series (100, noise of spread 2) that from interval `change` on spikes, for good, at a tenth of its intervals, by 60 to about 180 (30-90 times the noise's spread); `seed` picks the series. */
export const spikyForGood = (change: number, seed: number) => (k: number) =>
  100 + 2 * noise(k, seed) + (k >= change && uniform(k, seed + 700) < 0.1 ? 60 + 60 * Math.abs(noise(k, seed + 800)) : 0);

export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Steps series `slot` through intervals `ks` with values `xs(k)`; the scores. */
export function run(bank: SeriesBank, slot: number, ks: readonly number[], xs: (k: number) => number): number[] {
  const out = newStepResult();
  return ks.map((k) => {
    step(bank, slot, k, xs(k), out);
    return out.score;
  });
}
