import { SHORT, type SeriesBank } from "./bank.ts";
import { gaussianRarity, scoreOfRarity } from "./calibration.ts";
import { RECORD_BLOCK } from "./records.ts";
import { LAST_RATIO, recordOf, restartRecords } from "./records.ts";
import { DAILY_ROUTINE, quantised, recordRecurs, rememberSurprise, routineOf, WEEKLY_ROUTINE } from "./routine.ts";
import { restartTails, tailRarity } from "./tails.ts";
import { TUNE } from "./tune.ts";

/**
 * The event layer: what makes an interval an event worth a severity, on top of the
 * baseline's residual z. Three detectors each state a rarity (−log10 of a chance per
 * interval), and the severity is that of the rarest (calibration.ts):
 *
 * 1. One residual far out for this series' own tails (tails.ts): a clean break.
 * 2. The likelihood of the last SHORT residual sizes, after Numenta's "anomaly likelihood"
 *    (Ahmad, Lavin, Purdy, Agha 2017, "Unsupervised real-time anomaly detection for
 *    streaming data"): the mean of the last sizes log(1 + |z|) against the long-run
 *    distribution of the series' own sizes. A heavy-tailed series stops alarming on its
 *    ordinary bursts; a calm one alarms on a small but sustained change.
 * 3. A record (records.ts): a value further out than any of the last days, which residuals
 *    miss on bursty series.
 *
 * A surprise no larger than one seen about this time a day ago, or a week ago when that
 * one was itself a weekly repeat, is a routine (routine.ts) and reports nothing; a record
 * at the time of a record a day before likewise.
 */

export const DEBUG = new Float64Array(8);
let LAST_SHORT = 0;
export const sizeOf = (z: number) => Math.log1p(Math.min(Math.abs(z), 1e6));

/** Forgets the long-run statistics, as when the residuals change footing (the seasonal model turned warm). */
export function restartEvents(bank: SeriesBank, i: number): void {
  bank.sizeMean[i] = 0;
  bank.sizeVar[i] = 0;
  bank.sizeCount[i] = 0;
  restartTails(bank, i);
}

/** The likelihood rarity of residual size `u` with the SHORT before it; then learns `u`. */
function likelihood(bank: SeriesBank, i: number, u: number): number {
  const n = bank.sizeCount[i]!;
  const base = i * SHORT;
  bank.sizeRing[base + (n % SHORT)] = u;
  const k = Math.min(SHORT, n + 1);
  let short = 0;
  for (let j = 0; j < k; j++) short += bank.sizeRing[base + ((n - j) % SHORT)]!;
  short /= k;
  LAST_SHORT = short;
  const mean = bank.sizeMean[i]!;
  const variance = bank.sizeVar[i]!;
  let rarity = 0;
  if (n > TUNE.MIN_HISTORY!) {
    const zl = (short - mean) / ((Math.sqrt(variance) + TUNE.SPREAD_FLOOR!) / Math.sqrt(k));
    if (zl > 0) rarity = gaussianRarity(zl) * TUNE.LF!;
  }
  const a = Math.max(TUNE.LONG_RATE!, 1 / (n + 1));
  const d = u - mean;
  bank.sizeMean[i] = mean + a * d;
  bank.sizeVar[i] = (1 - a) * (variance + a * d * d);
  if (n < 4294967295) bank.sizeCount[i] = n + 1;
  return rarity;
}

/**
 * The severity of interval `k` of series `i`, whose value is `x` and residual `z`; learns
 * them. With `silent` (history, or a model still warming up), everything is learned and 0
 * returned. The layer watches from the first point, so its memory of the last cycle is
 * full when reporting starts, and restarts its statistics of residuals when the seasonal
 * model turns warm, because the residuals of a learning model are on another footing.
 */
export function eventSeverity(bank: SeriesBank, i: number, k: number, x: number, z: number, silent: boolean): number {
  if (bank.seen[i] === bank.layout.warmup) restartEvents(bank, i);
  const u = sizeOf(z);
  const q = quantised(u);
  const kinds = routineOf(bank, i, k, q);
  const beaten = recordOf(bank, i, x);
  const recordRoutine = beaten > 0 && recordRecurs(bank, i, k);
  rememberSurprise(bank, i, k, q, kinds, beaten > 0);
  const liked = likelihood(bank, i, u);
  // A sustained change is reported at intervals that are part of it, not at the calm ones after it.
  const lik = Math.abs(z) >= TUNE.LIK_GATE! * bank.q75[i]! && (TUNE.LIK_SHORT_GATE! === 0 || u >= TUNE.LIK_SHORT_GATE! * LAST_SHORT) ? liked : 0;
  const tail = tailRarity(bank, i, z);
  DEBUG[0] = liked; DEBUG[1] = tail; DEBUG[2] = beaten; DEBUG[3] = kinds; DEBUG[4] = (recordRoutine ? -1 : 1) * Math.min(LAST_RATIO, 1e6); DEBUG[5] = z; DEBUG[6] = u; DEBUG[7] = LAST_SHORT;
  let rarity = Math.max(lik, tail);
  if (kinds & (DAILY_ROUTINE | WEEKLY_ROUTINE)) rarity = 0;
  if (beaten > 0 && !recordRoutine) rarity = Math.max(rarity, TUNE.REC_L! > 0 ? TUNE.REC_L! : Math.log10(beaten + 1) + TUNE.REC_ALPHA! * Math.log10(Math.max(1, LAST_RATIO)));
  return silent ? 0 : scoreOfRarity(rarity);
}

/**
 * Keeps series `i`'s event open while its deviation persists: a severity at or above RENEW
 * (re)opens it for HOLD intervals. Returns whether it is open after this interval.
 */
export function trackEvent(bank: SeriesBank, i: number, severity: number): boolean {
  const left = bank.eventLeft[i]!;
  if (severity >= TUNE.RENEW!) {
    bank.eventLeft[i] = TUNE.HOLD!;
    bank.eventPeak[i] = left > 0 ? Math.max(bank.eventPeak[i]!, severity) : severity;
    return true;
  }
  if (left > 0) bank.eventLeft[i] = left - 1;
  if (left <= 1) bank.eventPeak[i] = 0;
  return left > 1;
}

export { RECORD_BLOCK, restartRecords };
