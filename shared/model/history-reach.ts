/**
 * How far back a metric set's history reaches before the first interval detected: what
 * learning a history reads (shared/detect/shard-history.ts) and what PutMetricRows takes.
 */

/** Intervals of a block of the history's spill: a flush writes one file per partition and block. */
export const BLOCK_INTERVALS = 168;
/**
 * How far back a history reaches before the first interval detected: older rows are not
 * learned. A model needs weeks, not years, and each interval's start is held while the
 * history is spilled, so rows at endless distinct times would grow memory without it.
 */
export const HISTORY_REACH_MS = 365 * 86_400_000;
/**
 * And no more than this many blocks of intervals (64 × 168: a year at PT1H, a week and a
 * half at PT1M, 37 days at PT5M, 75 at PT10M): a flush writes one file per partition and
 * block its rows fall in, so rows spread over a year of minutes (3,129 blocks) would write
 * about a file a row, each taking a disk block; within 64 blocks a flush writes at most
 * 2^SPILL_BITS × 65 files, and a full one holds at least 60 rows a file.
 */
export const HISTORY_REACH_BLOCKS = 64;
/** How far back a history at intervals of `len` reaches. */
export const historyReachMs = (len: number) => Math.min(HISTORY_REACH_MS, HISTORY_REACH_BLOCKS * BLOCK_INTERVALS * len);
