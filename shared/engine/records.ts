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

/*
 * The rarity of a value as a record (0 when it is none) is log10(n + 1) for beating the
 * last n values, more for clearing the previous record by a margin (beyondBlocks); then the
 * value is learned (closeBlock when its block is full). event.ts tests and learns it in its
 * one pass over a series' event state, written out there (as a call it cost some thirty
 * instructions a point more). A verdict's tolerance (feedback.ts) divides the distance from
 * the mean on its side; the untolerated distance is learned.
 */

/** Keeps the largest distance of the block just ended, in place of the oldest block when `blocks` are kept already. */
export function closeBlock(bank: SeriesBank, i: number, blocks: number): void {
  bank.recMax[i * Records.RECORD_BLOCKS + (bank.recNext[i]! % Records.RECORD_BLOCKS)] = bank.recCur[i]!;
  bank.recNext[i] = (bank.recNext[i]! + 1) % Records.RECORD_BLOCKS;
  bank.recBlocks[i] = Math.min(blocks + 1, Records.RECORD_BLOCKS);
  bank.recCount[i] = 0;
}

/** The rarity of distance `d` beyond the block under way (its `inBlock` values) and the kept `blocks` before it. */
export function beyondBlocks(bank: SeriesBank, i: number, d: number, inBlock: number, blocks: number): number {
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
