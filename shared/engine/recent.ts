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
  const out: RecentPoint[] = [];
  for (let j = k - Math.min(n, RECENT) + 1; j <= k; j++) {
    const at = recentAt(bank, i, j);
    out.push(at >= 0 ? { k: j, actual: bank.recentActual[at]!, expected: bank.recentExpected[at]!, scale: bank.recentScale[at]! } : { k: j, actual: NaN, expected: NaN, scale: NaN });
  }
  return out;
}

/** Where in the rings interval `k` of series `i` is, or −1 when the rings no longer (or never) held it: a reader of one point needs no window. */
export function recentAt(bank: SeriesBank, i: number, k: number): number {
  const last = bank.lastK[i]!;
  return last !== 0 && k <= last && last - k < RECENT ? i * RECENT + mod(k) : -1;
}

const mod = (j: number) => ((j % RECENT) + RECENT) % RECENT;
