import { KeyTable } from "../model/key-tables.ts";
import { LearningRates } from "./baseline.ts";
import { Records } from "./records.ts";
import { IntervalPlaces, layoutFor, type SeasonLayout } from "./layout.ts";

/** Intervals of recent values kept per series, for the chart an alert shows. */
export const RECENT = 24;
/** The residual sizes kept per series (SHORT, averaged for the short-run likelihood: event.ts): an enum, read every point, so that a bundle writes it in place (docs/engine.md, "Constants in place"). */
export enum Kept {
  SHORT = 6,
}

export type Typed = Float64Array | Float32Array | Uint32Array | Uint16Array | Int16Array | Int8Array | Uint8Array;

/**
 * The engine's state for many series at once, as parallel typed arrays (one slot per
 * series): memory is fixed per series and grows linearly, and a snapshot is the arrays'
 * bytes, so it round-trips exactly. Every array is listed once, in `fields()`, with how
 * many elements each series takes.
 *
 * The arrays indexed by a cycle's slot (the seasonal slots, their marks, the routine rings)
 * are slot-major: element b of series i is at b · stride + i. An interval visits one slot
 * of every series, so those reads run along memory rather than one cache line (and, for the
 * weekly slots, one page in six) per series. The other per-series blocks are series-major.
 */
export class SeriesBank {
  readonly layout: SeasonLayout;
  size = 0;
  /** Series the arrays have room for (the saved series, in a snapshot): a slot-major array's stride. */
  capacity = 0;
  /**
   * The series' slots by key, numbered as they came. A shard finds tens of thousands of
   * series an interval by keys made for the lookup (in two parts); a Map hashed and copied each one.
   */
  private index = new KeyTable();

  /** Each slot's series key. */
  get keys(): readonly string[] {
    return this.index.keys;
  }

  // The baseline (baseline.ts, scale.ts, change.ts).
  level = new Float64Array(0);
  scale = new Float64Array(0);
  /** Points learned so far. */
  seen = new Uint32Array(0);
  /** Signed length of the current run of same-direction surprises. */
  run = new Int16Array(0);
  /** 1 while every value seen was an integer (counts): enables the count noise floor. */
  integral = new Uint8Array(0);
  /** Multipliers on the residual scale raised by "not an anomaly" feedback, for values above and below expected. */
  toleranceUp = new Float32Array(0);
  toleranceDown = new Float32Array(0);
  daily = new Float32Array(0);
  weekly = new Float32Array(0);
  /** Sums of the daily and weekly slots, kept as they learn (the level with cycles averaged out: baseline.ts). */
  dailyTotal = new Float64Array(0);
  weeklyTotal = new Float64Array(0);
  /** Direction (−1, 0, 1) of the surprise last seen at each daily slot: a repeat means the cycle changed. */
  dailyMark = new Int8Array(0);
  /** The same for each weekly slot. */
  weeklyMark = new Int8Array(0);

  // The event layer (event.ts, routine.ts, shape.ts, drift.ts).
  /** Long-run mean and variance of residual sizes, log(1 + |z|), and the points they were learned from. */
  sizeMean = new Float32Array(0);
  sizeVar = new Float32Array(0);
  sizeCount = new Uint32Array(0);
  /** The last SHORT residual sizes, indexed by sizeCount mod SHORT. */
  sizeRing = new Float32Array(0);
  /** Largest residual size at each bucket of the last day and week, quantised (routine.ts), and the absolute bucket last written. */
  dayRing = new Uint8Array(0);
  weekRing = new Uint8Array(0);
  dayPlace = new Uint8Array(0);
  weekPlace = new Uint8Array(0);
  dayAt = new Uint32Array(0);
  weekAt = new Uint32Array(0);
  /** Running 75th and 95th percentiles of |z| and the points they learned from (tails.ts). */
  q75 = new Float32Array(0);
  q95 = new Float32Array(0);
  tailSeen = new Uint16Array(0);
  /** Records (records.ts): the long-run mean of values, values learned, the largest distance from it in each of the last blocks, in the block under way, its points, the next block's place, the blocks kept. */
  recMean = new Float64Array(0);
  recSeen = new Uint32Array(0);
  recMax = new Float32Array(0);
  recCur = new Float32Array(0);
  recCount = new Uint8Array(0);
  recNext = new Uint8Array(0);
  recBlocks = new Uint8Array(0);
  /** The reference the level is compared with for slow drift (drift.ts). */
  driftRef = new Float64Array(0);
  /** How far the level usually strays from that reference: its own slow wander, which a drift must exceed (drift.ts). */
  driftWander = new Float32Array(0);
  /** Intervals the series' current event stays open without a new anomaly; 0: no event. */
  eventLeft = new Uint16Array(0);
  /** Largest severity reported in the current event. */
  eventPeak = new Float32Array(0);
  /** Interval index of the open event's first anomaly (a double, as lastAnomalyK: any step's index, before 1970 too): the series' tails are held until the layout's tailsHeld intervals after it (tails.ts); NaN when no event is open, and in a model saved before format 8, whose open event holds none. */
  eventSince = new Float64Array(0);

  // What alerts show (recent.ts).
  /** Interval index of the last value remembered. */
  lastK = new Uint32Array(0);
  /** Ring of the last RECENT values, their expected values and scales, indexed by k mod RECENT. */
  recentActual = new Float32Array(0);
  recentExpected = new Float32Array(0);
  recentScale = new Float32Array(0);

  // What grouping asks (detect/score-interval.ts).
  /** Interval index of the series' last anomaly; NaN: none. A series is a member of the open anomaly group when this is at or after the group's first interval: every anomaly since then joined it. */
  lastAnomalyK = new Float64Array(0);

  /** Where the interval last stepped falls in the cycles (not state: made again from k). */
  readonly places: IntervalPlaces;
  /** The learning rates at the point count last stepped (not state: made again from it). */
  readonly learning: LearningRates;

  constructor(intervalMs: number, capacity = 16) {
    this.layout = layoutFor(intervalMs);
    this.places = new IntervalPlaces(this.layout);
    this.learning = new LearningRates(this.layout);
    this.grow(capacity);
  }

  get intervalMs(): number {
    return this.layout.intervalMs;
  }

  /** Each array of the state with its elements per series and whether it is slot-major, in snapshot order. */
  private fields(format = SNAPSHOT_FORMAT): [keyof SeriesBank & string, number, boolean][] {
    const { daily, weekly, routine } = this.layout;
    const list: [keyof SeriesBank & string, number][] = [
      ["level", 1],
      ["scale", 1],
      ["seen", 1],
      ["toleranceUp", 1],
      ["toleranceDown", 1],
      ["daily", daily.buckets],
      ["weekly", weekly.buckets],
      ["dailyTotal", 1],
      ["weeklyTotal", 1],
      ["run", 1],
      ["integral", 1],
      ["dailyMark", daily.buckets],
      ["weeklyMark", weekly.buckets],
      ["sizeMean", 1],
      ["sizeVar", 1],
      ["sizeCount", 1],
      ["sizeRing", Kept.SHORT],
      ["dayRing", routine.day.length],
      ["weekRing", routine.week.length],
      ["dayPlace", routine.day.divisor > 1 ? routine.day.length : 0],
      ["weekPlace", routine.week.divisor > 1 ? routine.week.length : 0],
      ["dayAt", 1],
      ["weekAt", 1],
      ["q75", 1],
      ["q95", 1],
      ["tailSeen", 1],
      ["recMean", 1],
      ["recSeen", 1],
      ["recMax", Records.RECORD_BLOCKS],
      ["recCur", 1],
      ["recCount", 1],
      ["recNext", 1],
      ["recBlocks", 1],
      ["driftRef", 1],
      ["driftWander", 1],
      ["eventLeft", 1],
      ["eventPeak", 1],
      ["lastK", 1],
      ["recentActual", RECENT],
      ["recentExpected", RECENT],
      ["recentScale", RECENT],
      ...ADDED.map(([name, since]): [keyof SeriesBank & string, number] => [name, format >= since ? 1 : 0]),
    ];
    return list.map(([name, per]) => [name, per, BY_SLOT.has(name)]);
  }

  private array(name: string): Typed {
    return (this as unknown as Record<string, Typed>)[name]!;
  }

  /** The slot of series `key`, creating it when new. */
  slot(key: string): number {
    return this.slotOf(key, "");
  }

  /** The slot of series `head + tail` (a key in two parts, not joined for the lookup), creating it when new. */
  slotOf(head: string, tail: string): number {
    const slot = this.index.intern(head, tail);
    if (slot < this.size) return slot;
    if (this.size === this.capacity) this.grow(Math.max(16, this.capacity * 2));
    this.size++;
    this.begin(slot);
    return slot;
  }

  /** A new series' state at `slot`, whose arrays hold zeros: what differs from zero. */
  private begin(slot: number): void {
    this.integral[slot] = 1;
    this.toleranceUp[slot] = 1;
    this.toleranceDown[slot] = 1;
    for (const [name] of ADDED) this[name][slot] = NaN;
  }

  /**
   * Series whose baseline is not finite (level, scale, or a cycle's total: a damaged or
   * hand-made snapshot, or one saved before values past 32-bit floats were passed over,
   * step.ts) start again as new ones, every element of their state as slotOf makes it: such
   * a state stays NaN for good, and its series would report anomalies without an expected
   * value or band, and miss the others. What a snapshot is read through.
   */
  private restartNotFinite(): this {
    for (let slot = 0; slot < this.size; slot++) {
      if (Number.isFinite(this.level[slot]!) && Number.isFinite(this.scale[slot]!) && Number.isFinite(this.dailyTotal[slot]!) && Number.isFinite(this.weeklyTotal[slot]!)) continue;
      for (const [name, per, bySlot] of this.fields()) {
        const a = this.array(name);
        for (let r = 0; r < per; r++) a[bySlot ? r * this.capacity + slot : slot * per + r] = 0;
      }
      this.begin(slot);
    }
    return this;
  }

  /** The slot of series `key`, if the bank has it. */
  find(key: string): number | undefined {
    const found = this.index.find(key);
    return found >= 0 ? found : undefined;
  }

  has(key: string): boolean {
    return this.index.find(key) >= 0;
  }

  /** Whether the bank's key table gave way to a Map. */
  get gaveWay(): boolean {
    return this.index.gaveWay;
  }

  private grow(capacity: number): void {
    for (const [name, per, bySlot] of this.fields()) {
      const a = this.array(name);
      const b = new (a.constructor as new (n: number) => Typed)(capacity * per);
      // A slot-major array's rows move to the new stride; a series-major one keeps its place.
      if (bySlot) for (let r = 0; r < per && this.capacity > 0; r++) b.set(a.subarray(r * this.capacity, r * this.capacity + Math.min(this.capacity, capacity)), r * capacity);
      else b.set(a);
      (this as unknown as Record<string, Typed>)[name] = b;
    }
    this.capacity = capacity;
  }

  /** Bytes of state one series takes. */
  bytesPerSeries(): number {
    return this.fields().reduce((sum, [name, per]) => sum + per * this.array(name).BYTES_PER_ELEMENT, 0);
  }

  /** The state of the bank's series, as views in snapshot order: each field's elements, a slot-major one row by row. */
  private views(): Typed[][] {
    return this.fields().map(([name, per, bySlot]) => {
      const a = this.array(name);
      if (!bySlot || this.capacity === this.size) return [a.subarray(0, this.size * per)];
      return Array.from({ length: per }, (_, r) => a.subarray(r * this.capacity, r * this.capacity + this.size));
    });
  }

  /** A bank of the series at `slots` alone, each with its whole state: how a shard of a model splits. */
  select(slots: readonly number[]): SeriesBank {
    const out = new SeriesBank(this.intervalMs, Math.max(16, slots.length));
    for (const i of slots) out.slot(this.keys[i]!);
    for (const [name, per, bySlot] of this.fields()) {
      const from = this.array(name) as unknown as Float64Array;
      const to = out.array(name) as unknown as Float64Array;
      if (bySlot) for (let r = 0; r < per; r++) slots.forEach((i, j) => (to[r * out.capacity + j] = from[r * this.capacity + i]!));
      else slots.forEach((i, j) => to.set(from.subarray(i * per, (i + 1) * per), j * per));
    }
    return out;
  }

  /** Snapshot: a JSON header (format, frequency, keys) then the arrays' bytes, 8-byte aligned, in one buffer. */
  serialize(): Uint8Array {
    const parts = this.serializeParts();
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }

  /**
   * The snapshot's bytes in order, as views of the bank's own arrays (no copy): what a
   * writer writes one after another. Valid until the bank next changes.
   */
  serializeParts(): Uint8Array[] {
    const parts: Uint8Array[] = [snapshotHead(SNAPSHOT_FORMAT, this.intervalMs, this.keys)];
    for (const field of this.views()) {
      let bytes = 0;
      for (const a of field) {
        parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
        bytes += a.byteLength;
      }
      if (pad8(bytes)) parts.push(ZEROS.subarray(0, pad8(bytes)));
    }
    return parts;
  }

  /**
   * A bank from a snapshot. With `adopt`, the caller hands the bytes over: where they are
   * 8-byte aligned, the bank's arrays are views of them (a shard's state is tens of MB, not
   * copied again); otherwise, and without `adopt`, they are copied into the bank's own arrays.
   * A snapshot of the format before (every array series-major) is read into the layout of now.
   */
  static deserialize(bytes: Uint8Array, options: { adopt?: boolean } = {}): SeriesBank {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 8 || view.getUint32(0, true) !== SNAPSHOT_MAGIC) throw new Error("not a Vigil model snapshot");
    const headerLength = view.getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as { format: number; intervalMs: number; keys: string[] };
    if (!Number.isInteger(header.format) || header.format < SERIES_MAJOR_FORMAT || header.format > SNAPSHOT_FORMAT) throw new SnapshotFormatChanged(header.format, SNAPSHOT_FORMAT);
    const seriesMajor = header.format === SERIES_MAJOR_FORMAT;
    if (!(header.intervalMs > 0)) throw new Error(`model snapshot has a bad interval ${header.intervalMs} ms`);
    const start = 8 + headerLength + pad8(headerLength);
    const adopt = options.adopt === true && !seriesMajor && (bytes.byteOffset + start) % 8 === 0;
    const bank = new SeriesBank(header.intervalMs, adopt ? 0 : Math.max(16, header.keys.length));
    // The keys as they were saved (distinct, in slot order); their arrays are overwritten below.
    bank.index = KeyTable.of(header.keys);
    if (bank.index.size !== header.keys.length) throw new Error("model snapshot repeats a series key");
    bank.size = header.keys.length;
    let at = start;
    if (adopt) {
      for (const [name, per] of bank.fields(header.format)) {
        const Kind = bank.array(name).constructor as TypedKind;
        const length = bank.size * per;
        if (at + length * Kind.BYTES_PER_ELEMENT > bytes.byteLength) throw new Error("model snapshot is truncated");
        (bank as unknown as Record<string, Typed>)[name] = new Kind(bytes.buffer, bytes.byteOffset + at, length);
        at += length * Kind.BYTES_PER_ELEMENT + pad8(length * Kind.BYTES_PER_ELEMENT);
      }
      bank.capacity = bank.size;
      return upgraded(bank, header.format).restartNotFinite();
    }
    // Copied byte by byte into the bank's own arrays: the bytes may be a view into a shared pool (what fs returns), at any alignment.
    for (const [name, per, bySlot] of bank.fields(header.format)) {
      const a = bank.array(name);
      const length = bank.size * per * a.BYTES_PER_ELEMENT;
      if (at + length > bytes.byteLength) throw new Error("model snapshot is truncated");
      if (!bySlot) new Uint8Array(a.buffer, a.byteOffset, length).set(bytes.subarray(at, at + length));
      else if (!seriesMajor) for (let r = 0; r < per; r++) new Uint8Array(a.buffer, a.byteOffset + r * bank.capacity * a.BYTES_PER_ELEMENT, bank.size * a.BYTES_PER_ELEMENT).set(bytes.subarray(at + r * bank.size * a.BYTES_PER_ELEMENT, at + (r + 1) * bank.size * a.BYTES_PER_ELEMENT));
      else {
        // The format before: each series' elements side by side, turned into rows here.
        const saved = new (a.constructor as new (n: number) => Typed)(bank.size * per);
        new Uint8Array(saved.buffer).set(bytes.subarray(at, at + length));
        for (let i = 0; i < bank.size; i++) for (let r = 0; r < per; r++) a[r * bank.capacity + i] = saved[i * per + r]!;
      }
      at += length + pad8(length);
    }
    return upgraded(bank, header.format).restartNotFinite();
  }
}

/**
 * A bank read from a format before: the arrays that format did not keep (ADDED) are the bank's
 * own, every series' NaN (an adopted bank's others are the snapshot's). Before format 7 none of
 * its series has had an anomaly; before format 8 an event open when it was saved holds its
 * tails no longer.
 */
function upgraded(bank: SeriesBank, format: number): SeriesBank {
  for (const [name, since] of ADDED) {
    if (format >= since) continue;
    if (bank[name].length < bank.capacity) bank[name] = new Float64Array(bank.capacity);
    bank[name].fill(NaN);
  }
  return bank;
}

type TypedKind = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): Typed; readonly BYTES_PER_ELEMENT: number };
/** Bytes that bring `n` up to a multiple of 8: each array of a snapshot starts 8-byte aligned. */
export const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** A snapshot's head: the magic, the JSON header's length, the header (format, frequency, keys), padded to 8 bytes. */
export function snapshotHead(format: number, intervalMs: number, keys: readonly string[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ format, intervalMs, keys }));
  const head = new Uint8Array(8 + json.length + pad8(json.length));
  const view = new DataView(head.buffer);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint32(4, json.length, true);
  head.set(json, 8);
  return head;
}
const ZEROS = new Uint8Array(8);

const SNAPSHOT_MAGIC = 0x4c474956; // "VIGL"
/**
 * 8: when each series' open event began (eventSince). Every format from SERIES_MAJOR_FORMAT on
 * is still read: 6 made the arrays indexed by a cycle's slot slot-major (BY_SLOT), and 7 and 8
 * added arrays (ADDED), which a snapshot of a format before reads as none.
 */
const SNAPSHOT_FORMAT = 8;
/** The arrays formats after 6 added, last in a snapshot, with the first format that keeps each: doubles, NaN for a new series (none yet) and in a snapshot of a format before (no series of format 6 had an anomaly; no open event of format 7 holds its tails). */
const ADDED: readonly (readonly ["lastAnomalyK" | "eventSince", number])[] = [
  ["lastAnomalyK", 7],
  ["eventSince", 8],
];
/** The oldest format read, every array series-major. */
const SERIES_MAJOR_FORMAT = 5;
/** The slot-major arrays: what an interval reads of every series at one slot of a cycle. */
const BY_SLOT: ReadonlySet<string> = new Set(["daily", "weekly", "dailyMark", "weeklyMark", "dayRing", "weekRing", "dayPlace", "weekPlace"]);

/** A model saved by another version of the engine, whose state this one cannot read. */
export class SnapshotFormatChanged extends Error {
  readonly code = "SnapshotFormatChanged";
  constructor(
    readonly found: number,
    readonly expected: number,
  ) {
    super(`model snapshot format ${found} is not ${expected}`);
  }
}
