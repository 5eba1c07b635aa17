/**
 * How a metric set's series are split into shards. Each series (a dimension combination,
 * with all its measures) has a stable 32-bit hash of its series key; a shard is a bit
 * string and holds every series whose hash starts with those bits. The root shard ("")
 * holds everything, and a shard that grows past its capacity splits in two by its next
 * bit: a series only ever moves from a shard to one of its two children, no other shard is
 * touched, and the shards of a model always cover the hash space exactly once.
 */

/** A shard: the leading bits of the hashes of the series it holds ("" is the root, at most 32 bits). */
export type ShardId = string;

export const ROOT_SHARD: ShardId = "";
export const MAX_SHARD_DEPTH = 32;

/**
 * The hash of a series key: FNV-1a over its UTF-16 code units, then MurmurHash3's 32-bit
 * finaliser, so that the leading bits (which name shards) are as well mixed as the rest.
 * Fixed forever: shards saved in models are named by it.
 */
export function seriesHash(seriesKey: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seriesKey.length; i++) {
    h ^= seriesKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The leading `depth` bits of a hash, as a number. */
const prefix = (hash: number, depth: number) => (depth === 0 ? 0 : hash >>> (MAX_SHARD_DEPTH - depth));

export const isShardId = (id: string): id is ShardId => id.length <= MAX_SHARD_DEPTH && /^[01]*$/.test(id);

/** Whether the series of hash `hash` belongs to shard `id`. */
export const holds = (id: ShardId, hash: number) => id.length === 0 || prefix(hash, id.length) === parseInt(id, 2);

/** The two halves a shard splits into. */
export const halvesOf = (id: ShardId): [ShardId, ShardId] => [`${id}0`, `${id}1`];

/** The shards `levels` bits below `id`, in hash order. */
export function descendantsOf(id: ShardId, levels: number): ShardId[] {
  if (id.length + levels > MAX_SHARD_DEPTH) throw new RangeError(`a shard cannot be deeper than ${MAX_SHARD_DEPTH} bits`);
  return Array.from({ length: 2 ** levels }, (_, i) => id + (levels ? i.toString(2).padStart(levels, "0") : ""));
}

/** Whether the shards cover the hash space exactly once: none holds another, and together they hold every hash. */
export function isPartition(ids: readonly ShardId[]): boolean {
  if (!ids.every(isShardId)) return false;
  const sorted = [...ids].sort();
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.startsWith(sorted[i - 1]!)) return false;
  // Exact in binary floating point: every term is a power of two no smaller than 2^-32.
  return sorted.reduce((sum, id) => sum + 2 ** -id.length, 0) === 1;
}

/** Finds a series' shard among a model's shards, by its hash. */
export class ShardLayout {
  private readonly table: Int32Array | undefined;
  private readonly depth: number;
  private readonly byPrefix = new Map<string, number>();

  constructor(readonly shards: readonly ShardId[]) {
    if (!isPartition(shards)) throw new Error(`shards ${JSON.stringify(shards)} do not cover the series exactly once`);
    this.depth = Math.max(...shards.map((id) => id.length));
    // A direct table while it is small (a model of a million series is about 6 bits deep); a walk by depth past that.
    if (this.depth <= 16) {
      this.table = new Int32Array(2 ** this.depth);
      shards.forEach((id, i) => {
        const span = 2 ** (this.depth - id.length);
        const start = (id.length ? parseInt(id, 2) : 0) * span;
        this.table!.fill(i, start, start + span);
      });
    } else {
      shards.forEach((id, i) => this.byPrefix.set(id, i));
    }
  }

  /** Index in `shards` of the shard holding hash `hash`. */
  indexOf(hash: number): number {
    if (this.table) return this.table[prefix(hash, this.depth)]!;
    for (let d = 0; d <= this.depth; d++) {
      const found = this.byPrefix.get(d === 0 ? "" : prefix(hash, d).toString(2).padStart(d, "0"));
      if (found !== undefined) return found;
    }
    throw new Error("unreachable: the shards cover every hash");
  }
}

/**
 * How many levels a shard holding `series` time series is split by so that each part is
 * expected to hold at most `capacity` (hashes spread evenly; the job splits again if one
 * part still holds more).
 */
export function levelsFor(series: number, capacity: number): number {
  return series <= capacity ? 0 : Math.ceil(Math.log2(series / capacity));
}

/** Time series per shard when no runner says: what one Lambda invocation of 1,024 MB scores well within its memory (docs/scaling.md). */
export const DEFAULT_SHARD_CAPACITY = 32_768;
