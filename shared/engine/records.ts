import type { SeriesBank } from "./bank.ts";

/**
 * Records: a value further from the series' long-run mean than any of the last n values
 * (up to RECORD_BLOCKS · RECORD_BLOCK), above or below. For a series that keeps its habits
 * its chance is 1/(n + 1), a conformal p-value that needs no model of the noise; beyond the
 * previous largest distance the tail is extrapolated as a power law of index
 * RECORD_TAIL_INDEX, so a record that clears the old one by 10 % is twice as rare as one
 * that just beats it. It sees what residuals miss on bursty series: a burst larger than
 * every burst of the last days, a level no value has reached. The window's largest
 * distances are kept per block, so the test is a handful of comparisons.
 */
/** The records' constants, read every point: an enum, so that a bundle writes its members in place (docs/engine.md, "Constants in place"). */
export enum Records {
  RECORD_BLOCKS = 24,
  RECORD_BLOCK = 128,
  /** Values of history before a record means anything. */
  MIN_RECORD = 150,
  /** Counts below this mean take no records: a new maximum of a few counts is a record by one whole count, which the residual's count floor judges better. */
  MIN_COUNT_MEAN = 20,
  /** Values the long-run mean averages over. */
  MEAN_MEMORY = 1000,
  /** Index of the power law extrapolated beyond the previous record (NAB's development set: 8–16 is a plateau). */
  RECORD_TAIL_INDEX = 8,
}

export function restartRecords(bank: SeriesBank, i: number): void {
  bank.recCount[i] = 0;
  bank.recBlocks[i] = 0;
}

/**
 * The rarity of value `x` of series `i` as a record (0 when it is none): log10(n + 1) for
 * beating the last n values, more for clearing the previous record by a margin; then learns
 * it. `tolerance` (feedback.ts) divides its distance from the mean, on its side.
 */
export function recordRarity(bank: SeriesBank, i: number, x: number): number {
  const seen = bank.recSeen[i]!;
  // `+x` is x (a number), but read as a double: a choice between the argument as passed and a
  // double from the array was a boxed number, allocated every point.
  const mean = seen === 0 ? +x : bank.recMean[i]!;
  const raw = Math.abs(x - mean);
  const blocks = bank.recBlocks[i]!;
  const inBlock = bank.recCount[i]!;
  const current = bank.recCur[i]!;
  let rarity = 0;
  if ((blocks > 0 || inBlock >= Records.MIN_RECORD) && !(bank.integral[i] && Math.abs(mean) < Records.MIN_COUNT_MEAN)) {
    const tolerance = x >= mean ? bank.toleranceUp[i]! : bank.toleranceDown[i]!;
    // Most series have no verdict: a division by 1 is skipped.
    const d = tolerance === 1 ? raw : raw / tolerance;
    // Most values are within the block under way: the blocks before it are read only for one that is not.
    if (!(inBlock > 0 && d <= current)) rarity = beyondBlocks(bank, i, d, inBlock, blocks);
  }
  // Learn the untolerated distance: feedback changes what is reported, not what is learned.
  const a = seen + 1 >= Records.MEAN_MEMORY ? 1 / Records.MEAN_MEMORY : Math.max(1 / Records.MEAN_MEMORY, 1 / (seen + 1));
  bank.recMean[i] = mean + a * (x - mean);
  if (seen < 4294967295) bank.recSeen[i] = seen + 1;
  bank.recCur[i] = inBlock === 0 ? raw : Math.max(current, raw);
  if (inBlock + 1 < Records.RECORD_BLOCK) bank.recCount[i] = inBlock + 1;
  else closeBlock(bank, i, blocks);
  return rarity;
}

/** Keeps the largest distance of the block just ended, in place of the oldest block when `blocks` are kept already. */
function closeBlock(bank: SeriesBank, i: number, blocks: number): void {
  bank.recMax[i * Records.RECORD_BLOCKS + (bank.recNext[i]! % Records.RECORD_BLOCKS)] = bank.recCur[i]!;
  bank.recNext[i] = (bank.recNext[i]! + 1) % Records.RECORD_BLOCKS;
  bank.recBlocks[i] = Math.min(blocks + 1, Records.RECORD_BLOCKS);
  bank.recCount[i] = 0;
}

/** The rarity of distance `d` beyond the block under way (its `inBlock` values) and the kept `blocks` before it. */
function beyondBlocks(bank: SeriesBank, i: number, d: number, inBlock: number, blocks: number): number {
  let beaten = inBlock;
  const base = i * Records.RECORD_BLOCKS;
  for (let b = 0; b < blocks; b++) {
    if (d <= bank.recMax[base + b]!) return 0;
    beaten += Records.RECORD_BLOCK;
  }
  if (beaten < Records.MIN_RECORD) return 0;
  let previous = inBlock > 0 ? bank.recCur[i]! : 0;
  for (let b = 0; b < blocks; b++) previous = Math.max(previous, bank.recMax[base + b]!);
  const margin = previous > 0 ? Math.min(d / previous, 1e6) : 1e6;
  return Math.log10(beaten + 1) + Records.RECORD_TAIL_INDEX * Math.log10(margin);
}
