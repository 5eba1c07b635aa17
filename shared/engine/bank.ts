import { layoutFor, type SeasonLayout } from "./layout.ts";

/** Intervals of recent values kept per series, for the chart an alert shows. */
export const RECENT = 24;

/**
 * The engine's state for many series at once, as parallel typed arrays (one slot per
 * series): memory is fixed per series and grows linearly, and a snapshot is the arrays'
 * bytes, so it round-trips exactly.
 */
export class SeriesBank {
  readonly layout: SeasonLayout;
  size = 0;
  private capacity = 0;
  private readonly index = new Map<string, number>();
  keys: string[] = [];
  level = new Float64Array(0);
  scale = new Float64Array(0);
  /** Points learned so far. */
  seen = new Uint32Array(0);
  /** Signed length of the current run of same-direction anomalies. */
  run = new Int16Array(0);
  /** 1 while every value seen was an integer (counts): enables the count noise floor. */
  integral = new Uint8Array(0);
  /** Multipliers on the residual scale raised by "not an anomaly" feedback, for values above and below expected. */
  toleranceUp = new Float32Array(0);
  toleranceDown = new Float32Array(0);
  daily = new Float32Array(0);
  weekly = new Float32Array(0);
  /** Direction (−1, 0, 1) of the anomaly last seen at each daily slot: a repeat means the cycle changed. */
  dailyMark = new Int8Array(0);
  /** The same for each weekly slot. */
  weeklyMark = new Int8Array(0);
  /** Interval index of the last value remembered (recent.ts). */
  lastK = new Uint32Array(0);
  /** Ring of the last RECENT values, their expected values and scales, indexed by k mod RECENT. */
  recentActual = new Float32Array(0);
  recentExpected = new Float32Array(0);
  recentScale = new Float32Array(0);

  constructor(intervalMs: number, capacity = 16) {
    this.layout = layoutFor(intervalMs);
    this.grow(capacity);
  }

  get intervalMs(): number {
    return this.layout.intervalMs;
  }

  /** The slot of series `key`, creating it when new. */
  slot(key: string): number {
    const found = this.index.get(key);
    if (found !== undefined) return found;
    if (this.size === this.capacity) this.grow(this.capacity * 2);
    const slot = this.size++;
    this.index.set(key, slot);
    this.keys.push(key);
    this.integral[slot] = 1;
    this.toleranceUp[slot] = 1;
    this.toleranceDown[slot] = 1;
    return slot;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  private grow(capacity: number): void {
    const { daily, weekly } = this.layout;
    const copy = <T extends Float64Array | Float32Array | Uint32Array | Int16Array | Int8Array | Uint8Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.level = copy(this.level, capacity);
    this.scale = copy(this.scale, capacity);
    this.seen = copy(this.seen, capacity);
    this.run = copy(this.run, capacity);
    this.integral = copy(this.integral, capacity);
    this.toleranceUp = copy(this.toleranceUp, capacity);
    this.toleranceDown = copy(this.toleranceDown, capacity);
    this.daily = copy(this.daily, capacity * daily.buckets);
    this.weekly = copy(this.weekly, capacity * weekly.buckets);
    this.dailyMark = copy(this.dailyMark, capacity * daily.buckets);
    this.weeklyMark = copy(this.weeklyMark, capacity * weekly.buckets);
    this.lastK = copy(this.lastK, capacity);
    this.recentActual = copy(this.recentActual, capacity * RECENT);
    this.recentExpected = copy(this.recentExpected, capacity * RECENT);
    this.recentScale = copy(this.recentScale, capacity * RECENT);
    this.capacity = capacity;
  }

  /** Bytes of state one series takes. */
  bytesPerSeries(): number {
    const { daily, weekly } = this.layout;
    return 8 + 8 + 4 + 2 + 1 + 8 + 5 * daily.buckets + 5 * weekly.buckets + 4 + 12 * RECENT;
  }

  private arrays() {
    const n = this.size;
    const { daily, weekly } = this.layout;
    return [
      this.level.subarray(0, n),
      this.scale.subarray(0, n),
      this.seen.subarray(0, n),
      this.toleranceUp.subarray(0, n),
      this.toleranceDown.subarray(0, n),
      this.daily.subarray(0, n * daily.buckets),
      this.weekly.subarray(0, n * weekly.buckets),
      this.run.subarray(0, n),
      this.integral.subarray(0, n),
      this.dailyMark.subarray(0, n * daily.buckets),
      this.weeklyMark.subarray(0, n * weekly.buckets),
      this.lastK.subarray(0, n),
      this.recentActual.subarray(0, n * RECENT),
      this.recentExpected.subarray(0, n * RECENT),
      this.recentScale.subarray(0, n * RECENT),
    ] as const;
  }

  /** A bank of the series at `slots` alone, each with its whole state: how a shard of a model splits. */
  select(slots: readonly number[]): SeriesBank {
    const out = new SeriesBank(this.intervalMs, Math.max(16, slots.length));
    for (const i of slots) out.slot(this.keys[i]!);
    const into = out.arrays();
    this.arrays().forEach((from, f) => {
      const per = from.length / this.size;
      const to = into[f]! as unknown as Float64Array;
      slots.forEach((i, j) => to.set((from as unknown as Float64Array).subarray(i * per, (i + 1) * per), j * per));
    });
    return out;
  }

  /** Snapshot: a JSON header (format, frequency, keys) then the arrays' bytes, 8-byte aligned. */
  serialize(): Uint8Array {
    const header = new TextEncoder().encode(JSON.stringify({ format: SNAPSHOT_FORMAT, intervalMs: this.intervalMs, keys: this.keys }));
    const arrays = this.arrays();
    const pad = (n: number) => (8 - (n % 8)) % 8;
    let total = 8 + header.length + pad(header.length);
    for (const a of arrays) total += a.byteLength + pad(a.byteLength);
    const out = new Uint8Array(total);
    new DataView(out.buffer).setUint32(0, SNAPSHOT_MAGIC, true);
    new DataView(out.buffer).setUint32(4, header.length, true);
    out.set(header, 8);
    let at = 8 + header.length + pad(header.length);
    for (const a of arrays) {
      out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
      at += a.byteLength + pad(a.byteLength);
    }
    return out;
  }

  static deserialize(bytes: Uint8Array): SeriesBank {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 8 || view.getUint32(0, true) !== SNAPSHOT_MAGIC) throw new Error("not a Vigil model snapshot");
    const headerLength = view.getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as { format: number; intervalMs: number; keys: string[] };
    if (header.format !== SNAPSHOT_FORMAT) throw new Error(`model snapshot format ${header.format} is not ${SNAPSHOT_FORMAT}`);
    if (!(header.intervalMs > 0)) throw new Error(`model snapshot has a bad interval ${header.intervalMs} ms`);
    const bank = new SeriesBank(header.intervalMs, Math.max(16, header.keys.length));
    for (const key of header.keys) bank.slot(key);
    const pad = (n: number) => (8 - (n % 8)) % 8;
    let at = 8 + headerLength + pad(headerLength);
    // A private copy: Buffer#slice (what fs returns) is a view into a shared pool, not a copy.
    const copy = new Uint8Array(bytes).buffer;
    for (const a of bank.arrays()) {
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(new Uint8Array(copy, at, a.byteLength));
      at += a.byteLength + pad(a.byteLength);
    }
    return bank;
  }
}

const SNAPSHOT_MAGIC = 0x4c474956; // "VIGL"
const SNAPSHOT_FORMAT = 3;
