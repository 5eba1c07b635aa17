import { RECENT, type SeriesBank } from "./bank.ts";

/**
 * The last RECENT intervals of each series (value, expected value, residual scale) in
 * fixed rings inside the bank, so an alert can chart the hours before an incident against
 * the expected band without reading old files. Intervals with no value read back as NaN.
 */

/** Remembers the value of interval `k` of series `i`, forgetting the intervals skipped since the last one. */
export function remember(bank: SeriesBank, i: number, k: number, actual: number, expected: number, scale: number): void {
  const last = bank.lastK[i]!;
  const base = i * RECENT;
  // A gap of RECENT or more (or a first value) clears the whole ring.
  const from = last === 0 || k - last > RECENT ? k - RECENT + 1 : last + 1;
  for (let j = from; j < k; j++) {
    const at = base + mod(j);
    bank.recentActual[at] = NaN;
    bank.recentExpected[at] = NaN;
    bank.recentScale[at] = NaN;
  }
  const at = base + mod(k);
  bank.recentActual[at] = actual;
  bank.recentExpected[at] = expected;
  bank.recentScale[at] = scale;
  if (k > last) bank.lastK[i] = k;
}

export interface RecentPoint {
  /** Interval index (epoch ms / interval ms). */
  readonly k: number;
  readonly actual: number;
  readonly expected: number;
  readonly scale: number;
}

/** Series `i` over the `n` (≤ RECENT) intervals ending at `k`, oldest first; NaN where nothing is known. */
export function recentWindow(bank: SeriesBank, i: number, k: number, n = RECENT): RecentPoint[] {
  const last = bank.lastK[i]!;
  const out: RecentPoint[] = [];
  for (let j = k - Math.min(n, RECENT) + 1; j <= k; j++) {
    const known = last !== 0 && j <= last && last - j < RECENT;
    const at = i * RECENT + mod(j);
    out.push(known ? { k: j, actual: bank.recentActual[at]!, expected: bank.recentExpected[at]!, scale: bank.recentScale[at]! } : { k: j, actual: NaN, expected: NaN, scale: NaN });
  }
  return out;
}

const mod = (j: number) => ((j % RECENT) + RECENT) % RECENT;
