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
 * A model's key for its series' hashes: 64 random bits, as two 32-bit words, drawn when the
 * model is first made and kept in its head. Series keys come from a tenant's files: under a
 * hash anyone can compute, a tenant can make any number of series hash alike, which no split
 * can part, and put them all in one shard (one worker's memory, past every capacity). Under a
 * key the tenant never sees, it cannot. A model made before keys has none, and keeps the
 * unkeyed hash its shards are named by.
 */
export type ShardHashKey = readonly [number, number];

/** Whether two models hash alike: the same key, or neither keyed. */
export const sameHashKey = (a: ShardHashKey | undefined, b: ShardHashKey | undefined) => (a === undefined || b === undefined ? a === b : a[0] === b[0] && a[1] === b[1]);

export const isShardHashKey = (k: unknown): k is ShardHashKey => Array.isArray(k) && k.length === 2 && k.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff);

/**
 * The hash of a series key, under the model's key when it has one (keyedHash), else the
 * unkeyed one of the models before keys: FNV-1a over its UTF-16 code units, then MurmurHash3's
 * 32-bit finaliser, so that the leading bits (which name shards) are as well mixed as the
 * rest. Each is fixed forever: shards saved in models are named by it.
 */
export function seriesHash(seriesKey: string, key?: ShardHashKey): number {
  if (key) return keyedHash(seriesKey, key[0], key[1]);
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

/**
 * HalfSipHash-2-4 (Aumasson and Bernstein's SipHash, on 32-bit words) of the string's UTF-16LE
 * bytes under the key (k0, k1): a keyed function of short inputs made against hash flooding,
 * its 32-bit output. Written here because the hash runs for every series of every interval (a
 * million a run): the npm `siphash` package, which allocates objects in every round and
 * encodes each string to UTF-8 first, took about 2 µs a key.
 */
export function keyedHash(s: string, k0: number, k1: number): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const n = s.length;
  const whole = n & ~1;
  for (let i = 0; i <= whole; i += 2) {
    // Two code units a word, little-endian; the last word holds the byte length (mod 256) in its top byte, and an odd unit left.
    const m = i < whole ? s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16) : ((2 * n) << 24) | (n & 1 ? s.charCodeAt(i) : 0);
    v3 ^= m;
    // The round is written out here and below: as a closure over the four words, hashing ran at half the speed.
    for (let r = 0; r < 2; r++) {
      v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
      v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
      v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    }
    v0 ^= m;
  }
  v2 ^= 0xff;
  for (let r = 0; r < 4; r++) {
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  }
  return (v1 ^ v3) >>> 0;
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
