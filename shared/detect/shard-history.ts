import type { SeriesBank } from "../engine/bank.ts";
import { type IntervalCells } from "../ingest/aggregate.ts";
import { seriesKeyOf } from "../ingest/series-key.ts";
import { intervalMs } from "../model/frequency.ts";
import { joinUri } from "../model/location.ts";
import type { BlobStore } from "../store/blobs.ts";
import type { KeptPart, ShardMetricSet } from "./shard-job.ts";
import { encodeSeriesPoints, keptPoints } from "./series-points.ts";
import { seriesHash, type ShardHashKey, type ShardId } from "./shards.ts";
import { scoreInterval } from "./score-interval.ts";
import { BLOCK_INTERVALS, historyReachMs } from "../model/history-reach.ts";

/**
 * History, learned shard by shard. The coordinator reads the history's files once and
 * spills each accepted row into one of 2^SPILL_BITS partitions by its series' hash (the
 * shards of depth SPILL_BITS), block by block of BLOCK_INTERVALS intervals, keeping only
 * a bounded buffer; each shard job then reads its partitions' rows a block at a time, in
 * time order, and learns them as one unsharded run would (the same sums, in the same row
 * order, interval by interval). Memory holds one buffer on the way in and one block of one
 * shard on the way out, never the whole history.
 *
 *   <folder>/p<partition>/keys.json                  dimension values of each series, by its index
 *   <folder>/p<partition>/b<block>/<sequence>.bin    rows: interval start, series index, values
 */
export const SPILL_BITS = 8;
/** Rows buffered before they are written out. */
const FLUSH_ROWS = 1 << 20;

/** The spill partition a series falls in: the first SPILL_BITS bits of its hash, as its shards split. */
export const spillPartition = (seriesKey: string, hashKey: ShardHashKey | undefined) => seriesHash(seriesKey, hashKey) >>> (32 - SPILL_BITS);
const partitionName = (p: number) => p.toString(2).padStart(SPILL_BITS, "0");
export const partitionFolder = (folder: string, partition: number) => joinUri(folder, `p${partitionName(partition)}`);
/** The shard a spill partition is: its bits. */
export const partitionShard = (partition: number): ShardId => partitionName(partition);

interface Buffer {
  readonly t: number[];
  readonly series: number[];
  readonly values: number[];
}

/** What the spill found: per partition, its series; the last interval before `before`, and how many intervals there were. */
export interface Spilled {
  readonly folder: string;
  /** Partition → dimension combinations in it. */
  readonly partitions: ReadonlyMap<number, number>;
  readonly through: number;
  readonly intervals: number;
  /** The last `last` intervals' starts (finish's argument), oldest first. */
  readonly latest: number[];
}

export class HistorySpill {
  private readonly keys = new Map<number, Map<string, number>>();
  private readonly dimensions = new Map<number, string[][]>();
  private readonly buffers = new Map<string, Buffer>();
  private readonly starts = new Set<number>();
  private buffered = 0;
  private combos = 0;
  private chars = 0;
  private sequence = 0;
  private readonly len: number;
  /** The start of the first interval within reach. */
  readonly from: number;
  /** Rows older than the history reaches, and rows of intervals at or after `before`: not learned. */
  tooOld = 0;
  ahead = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly folder: string,
    private readonly measures: number,
    frequency: ShardMetricSet["MetricSetFrequency"],
    /** Rows of intervals from this one on are not history. */
    readonly before: number,
    /** The hash key of the model it is learned into (shards.ts). */
    private readonly hashKey: ShardHashKey | undefined,
  ) {
    this.len = intervalMs(frequency);
    this.from = before - historyReachMs(this.len);
  }

  /** Whether the buffer should be written out before more rows come. */
  get full(): boolean {
    return this.buffered >= FLUSH_ROWS;
  }

  /** Time series (dimension values × measures) spilled so far. */
  get series(): number {
    return this.combos * this.measures;
  }

  /** Characters of the series' keys held so far (their dimension values, held once more beside them). */
  get keyChars(): number {
    return this.chars;
  }

  /** Whether a row of the series with this key would be held as one already held (any row out of reach holds nothing). */
  holds(key: string): boolean {
    return this.keys.get(spillPartition(key, this.hashKey))?.has(key) === true;
  }

  /** One accepted row (its series key made already, or made here); rows of intervals at or after `before`, or further before it than it reaches (historyReachMs), are not history. */
  add(timestamp: number, dimensions: readonly string[], values: readonly (number | undefined)[], key = seriesKeyOf(dimensions)): void {
    const t = Math.floor(timestamp / this.len) * this.len;
    if (t >= this.before) return void this.ahead++;
    if (t < this.from) return void this.tooOld++;
    this.starts.add(t);
    const partition = spillPartition(key, this.hashKey);
    let known = this.keys.get(partition);
    if (!known) {
      this.keys.set(partition, (known = new Map()));
      this.dimensions.set(partition, []);
    }
    let series = known.get(key);
    if (series === undefined) {
      known.set(key, (series = known.size));
      this.combos++;
      this.chars += key.length;
      this.dimensions.get(partition)!.push([...dimensions]);
    }
    const at = `${partition}/${Math.floor(t / this.len / BLOCK_INTERVALS)}`;
    let buffer = this.buffers.get(at);
    if (!buffer) this.buffers.set(at, (buffer = { t: [], series: [], values: [] }));
    buffer.t.push(t);
    buffer.series.push(series);
    for (let m = 0; m < this.measures; m++) buffer.values.push(values[m] ?? NaN);
    this.buffered++;
  }

  /** Writes every buffered row out, one blob per partition and block. */
  async flush(): Promise<void> {
    const sequence = String(this.sequence++).padStart(8, "0");
    for (const [at, buffer] of this.buffers) {
      const [partition, block] = at.split("/").map(Number) as [number, number];
      await this.blobs.put(joinUri(partitionFolder(this.folder, partition), `b${String(block).padStart(10, "0")}`, `${sequence}.bin`), encodeRows(buffer, this.measures));
    }
    this.buffers.clear();
    this.buffered = 0;
  }

  /** Writes out what is left; answers what was spilled, with the starts of its `last` latest intervals. */
  async finish(last: number): Promise<Spilled> {
    await this.flush();
    for (const [partition, dims] of this.dimensions) await this.blobs.put(joinUri(partitionFolder(this.folder, partition), "keys.json"), JSON.stringify(dims));
    const starts = [...this.starts].sort((a, b) => a - b);
    const through = starts.length ? starts[starts.length - 1]! : NaN;
    return { folder: this.folder, partitions: new Map([...this.keys].map(([p, k]) => [p, k.size])), through, intervals: starts.length, latest: starts.slice(-last) };
  }
}

function encodeRows(b: Buffer, measures: number): Uint8Array {
  const n = b.t.length;
  const out = new Uint8Array(8 + 8 * n + 8 * n * measures + 4 * n);
  new DataView(out.buffer).setUint32(0, n, true);
  new Float64Array(out.buffer, 8, n).set(b.t);
  new Float64Array(out.buffer, 8 + 8 * n, n * measures).set(b.values);
  new Uint32Array(out.buffer, 8 + 8 * n + 8 * n * measures, n).set(b.series);
  return out;
}

/**
 * One block's sums and counts, by interval within the block, series and measure, in typed
 * arrays made once per shard job (its series are at most its capacity); and, by interval,
 * its series in the order their first row came, which is the order its cells are scored in.
 */
class BlockSums {
  private readonly sums: Float64Array;
  private readonly counts: Uint32Array;
  private readonly seen: Uint8Array;
  private readonly order: number[][] = Array.from({ length: BLOCK_INTERVALS }, () => []);

  constructor(
    private readonly series: number,
    private readonly measures: number,
  ) {
    this.sums = new Float64Array(BLOCK_INTERVALS * series * measures);
    this.counts = new Uint32Array(BLOCK_INTERVALS * series * measures);
    this.seen = new Uint8Array(BLOCK_INTERVALS * series);
  }

  clear(): void {
    this.sums.fill(0);
    this.counts.fill(0);
    this.seen.fill(0);
    for (const o of this.order) o.length = 0;
  }

  /** A row of series `g` at interval `j` of the block: its measures' values from `values[at]` on (NaN where it had none). */
  add(j: number, g: number, values: Float64Array, at: number): void {
    const cell = j * this.series + g;
    if (!this.seen[cell]) {
      this.seen[cell] = 1;
      this.order[j]!.push(g);
    }
    for (let k = 0; k < this.measures; k++) {
      const v = values[at + k]!;
      if (Number.isNaN(v)) continue;
      this.sums[cell * this.measures + k]! += v;
      this.counts[cell * this.measures + k]!++;
    }
  }

  /** The series that had rows at interval `j`, in the order their first row came. */
  seriesAt(j: number): readonly number[] {
    return this.order[j]!;
  }

  cell(j: number, g: number): { sums: number[]; counts: number[] } {
    const at = (j * this.series + g) * this.measures;
    return { sums: Array.from(this.sums.subarray(at, at + this.measures)), counts: Array.from(this.counts.subarray(at, at + this.measures)) };
  }
}

function decodeRows(bytes: Uint8Array, measures: number): { t: Float64Array; values: Float64Array; series: Uint32Array } {
  const own = new Uint8Array(bytes).buffer;
  const n = new DataView(own).getUint32(0, true);
  return { t: new Float64Array(own, 8, n), values: new Float64Array(own, 8 + 8 * n, n * measures), series: new Uint32Array(own, 8 + 8 * n + 8 * n * measures, n) };
}

/**
 * Learns the rows spilled into the given partition folders, block by block and interval by
 * interval in time order, into `bank`: what one unsharded run learns of these series; the
 * series points of the intervals in `keep` are kept as they are learned.
 */
export async function learnSpilled(blobs: BlobStore, bank: SeriesBank, metricSet: ShardMetricSet, partitions: readonly string[], before: number, keep: ReadonlySet<number>): Promise<{ intervals: number; through: number; kept: KeptPart[] }> {
  const m = metricSet.MetricList.length;
  const keyed: { dims: string[][]; keys: string[]; blocks: Map<string, string[]> }[] = [];
  const blocks = new Set<string>();
  for (const folder of partitions) {
    const listed = await blobs.list(`${folder}/`);
    // Every partition a job is given holds series (the spill wrote their keys): without them, the spill is gone with its run (merged or parked), and the
    // job, given again, would write a shard that learned nothing over the one its run committed.
    const keysFile = listed.find((uri) => uri.endsWith("/keys.json"));
    const keysBytes = keysFile && (await blobs.get(keysFile));
    if (!keysBytes) throw new SpillGone(folder);
    const dims = JSON.parse(new TextDecoder().decode(keysBytes)) as string[][];
    const byBlock = new Map<string, string[]>();
    for (const uri of listed) {
      const block = /\/(b\d+)\/\d+\.bin$/.exec(uri)?.[1];
      if (!block) continue;
      blocks.add(block);
      if (!byBlock.has(block)) byBlock.set(block, []);
      byBlock.get(block)!.push(uri);
    }
    keyed.push({ dims, keys: dims.map(seriesKeyOf), blocks: byBlock });
  }
  const len = intervalMs(metricSet.MetricSetFrequency);
  // Every series of these partitions by one number, partition after partition: its partition's offset, plus its index there.
  const keys = keyed.flatMap((k) => k.keys);
  const dims = keyed.flatMap((k) => k.dims);
  const offsets: number[] = [];
  keyed.reduce((n, k) => (offsets.push(n), n + k.dims.length), 0);
  const sums = new BlockSums(keys.length, m);
  let intervals = 0;
  let through = NaN;
  const kept: KeptPart[] = [];
  for (const block of [...blocks].sort()) {
    // Each file's rows summed into the block's cells as it is read, then let go: memory holds
    // the block's sums (its series × BLOCK_INTERVALS), never its rows, however many there are.
    // Files in partition order, rows in file order: each cell adds its rows in the order one
    // unsharded run adds them, so its sums are the same to the last bit.
    const first = Number(block.slice(1)) * BLOCK_INTERVALS;
    sums.clear();
    for (let p = 0; p < keyed.length; p++) {
      for (const uri of keyed[p]!.blocks.get(block) ?? []) {
        const rows = decodeRows((await blobs.get(uri))!, m);
        for (let r = 0; r < rows.t.length; r++) sums.add(rows.t[r]! / len - first, offsets[p]! + rows.series[r]!, rows.values, r * m);
      }
    }
    for (let j = 0; j < BLOCK_INTERVALS; j++) {
      const seen = sums.seriesAt(j);
      if (!seen.length) continue;
      const t = (first + j) * len;
      if (t >= before) continue;
      const cells: IntervalCells = new Map();
      for (const g of seen) cells.set(keys[g]!, { dimensions: dims[g]!, ...sums.cell(j, g) });
      scoreInterval(bank, metricSet, cells, t, { learnOnly: true });
      if (keep.has(t)) kept.push({ intervalStart: t, points: encodeSeriesPoints(keptPoints(bank, metricSet, cells, t, "learned")) });
      intervals++;
      through = t;
    }
  }
  return { intervals, through, kept };
}

/** A history's spill partition a shard job was given is gone: its run is over (merged, or parked), and the job learns and writes nothing. */
export class SpillGone extends Error {
  override readonly name = "SpillGone";
  readonly code = "SpillGone";
  constructor(readonly partition: string) {
    super(`the history's spill ${partition} is gone: its run is over`);
  }
}
