import type { SeriesBank } from "./bank.ts";
import { TUNE } from "./tune.ts";

/**
 * Records: a value further from the series' long-run mean than any of the last
 * RECORD_BLOCKS · RECORD_BLOCK values, above or below. Its chance, for a series that keeps
 * its habits, is one in that many (a conformal p-value: it needs no model of the noise). It
 * sees what residuals miss on bursty series: a burst larger than every burst of the last
 * days, or a level no value has reached. The window's largest distances are kept per block,
 * so the test is a handful of comparisons.
 */
export let LAST_RATIO = 0;
export const RECORD_BLOCKS = 24;
export const RECORD_BLOCK = 128;

export function restartRecords(bank: SeriesBank, i: number): void {
  bank.recCount[i] = 0;
  bank.recBlocks[i] = 0;
}

/**
 * Whether value `x` of series `i` is a record, as the number of values it beats (0: not a
 * record); then learns it.
 */
export function recordOf(bank: SeriesBank, i: number, x: number): number {
  const seen = bank.recSeen[i]!;
  const mean = seen === 0 ? x : bank.recMean[i]!;
  let d = Math.abs(x - mean);
  if (TUNE.REC_W! > 1) {
    const e = seen === 0 ? 0 : bank.recEnergy[i]! + (d * d - bank.recEnergy[i]!) / TUNE.REC_W!;
    bank.recEnergy[i] = e;
    d = Math.sqrt(e);
  }
  const blocks = bank.recBlocks[i]!;
  const inBlock = bank.recCount[i]!;
  let beaten = 0;
  LAST_RATIO = 0;
  if (blocks > 0 || inBlock >= TUNE.REC_MIN!) {
    beaten = inBlock > 0 && d <= bank.recCur[i]! ? 0 : inBlock;
    if (beaten > 0 || inBlock === 0) {
      const base = i * RECORD_BLOCKS;
      for (let b = 0; b < blocks; b++) {
        if (d <= bank.recMax[base + b]!) {
          beaten = 0;
          break;
        }
        beaten += RECORD_BLOCK;
      }
    }
    if (beaten < TUNE.REC_MIN!) beaten = 0;
    if (beaten > 0) {
      let prev = inBlock > 0 ? bank.recCur[i]! : 0;
      for (let b = 0; b < blocks; b++) prev = Math.max(prev, bank.recMax[i * RECORD_BLOCKS + b]!);
      LAST_RATIO = prev > 0 ? d / prev : 1e6;
    }
  }
  // Learn: the long-run mean (1/n early), then the block maxima.
  const a = Math.max(1 / TUNE.REC_T!, 1 / (seen + 1));
  bank.recMean[i] = mean + a * (x - mean);
  if (seen < 4294967295) bank.recSeen[i] = seen + 1;
  bank.recCur[i] = inBlock === 0 ? d : Math.max(bank.recCur[i]!, d);
  if (inBlock + 1 < RECORD_BLOCK) bank.recCount[i] = inBlock + 1;
  else {
    const base = i * RECORD_BLOCKS;
    bank.recMax[base + (bank.recNext[i]! % RECORD_BLOCKS)] = bank.recCur[i]!;
    bank.recNext[i] = (bank.recNext[i]! + 1) % RECORD_BLOCKS;
    bank.recBlocks[i] = Math.min(blocks + 1, RECORD_BLOCKS);
    bank.recCount[i] = 0;
  }
  return beaten;
}
