import type { SeriesBank } from "./bank.ts";
import type { IntervalPlaces, RoutineRing } from "./layout.ts";

/**
 * Routines: a surprise no larger than one seen about the same time the day before, or
 * like one seen then the day or the week before that was itself a repeat, give or take 1/32 of a day
 * (layout.ts), is a routine: a nightly job that runs a few minutes early or late, a report
 * every Thursday at 09:00. The baseline's seasonal slots cannot learn those, because they
 * do not land in the same slot twice or are too rare to move a slot. Each ring keeps, per
 * bucket of its last cycle, the largest residual size seen and where in the bucket it was,
 * a byte each, in the series' state.
 */

/** The rings' constants and the bits of their bytes and answers, read every point: an enum, so that a bundle writes its members in place (docs/engine.md, "Constants in place"). */
export enum Routine {
  /** Quantisation of residual sizes log(1 + |z|): 1/8 per step, 6 bits, so up to |z| ≈ 2,600 (larger ones are alike). */
  STEPS = 8,
  SIZE = 63,
  /** Bit of a stored byte: a record fell in that bucket (records.ts; day ring). */
  RECORD = 64,
  /** Bit of a stored byte: that surprise was itself like one a cycle before. */
  REPEAT = 128,
  /** "Like": no larger by more than this many steps (a quarter of log size: |z| up to 1.28 times as large; 3 steps, 1.45 times, lost 1.7 points of NAB's development set). */
  LIKE = 2,
  /** Bits of `scan`: a stored surprise within the drift of one cycle ago is at least q − LIKE; at least q; at least q − LIKE and a repeat itself. */
  LIKE_SEEN = 1,
  NO_LARGER = 2,
  LIKE_REPEAT = 4,
  /** Bits of `routineOf`. */
  ROUTINE = 1,
  DAILY_REPEAT = 2,
  WEEKLY_REPEAT = 4,
}

export const quantised = (u: number) => Math.min(Routine.SIZE, Math.ceil(u * Routine.STEPS)) | 0;

/** `a` mod `n` for an integer `a` (a bucket): one modulo, made non-negative after, as each one is an integer division. */
const mod = (a: number, n: number) => {
  const m = a % n;
  return m < 0 ? m + n : m;
};

/** Where in its bucket interval `k` falls, as a byte (exact for up to 256 intervals a bucket). */
const placeOf = (k: number, divisor: number) => (divisor === 1 ? 0 : Math.floor((mod(k, divisor) * 256) / divisor));

/**
 * Where interval k falls in one ring: the same for every series of the interval, so made
 * once per interval (layout.ts' IntervalPlaces) rather than once per point, where each part
 * is a division or a modulo.
 */
export class RingPlace {
  /** The absolute bucket of interval k, its row in the ring, and where in the bucket k falls (a byte). */
  bucket = 0;
  row = 0;
  /** Where that row starts in a ring of the stride it was placed for: row · stride. */
  rowBase = 0;
  place = 0;
  /** One cycle before k, and the buckets within the drift of it: first…last, the first one's row. */
  ago = 0;
  first = 0;
  last = 0;
  firstRow = 0;

  /** Places interval `k` in ring `r` (of a cycle that is learned: r.length > 0), of `stride` series. */
  set(r: RoutineRing, k: number, stride: number): void {
    this.bucket = r.divisor === 1 ? Math.floor(k) : Math.floor(k / r.divisor);
    this.row = mod(this.bucket, r.length);
    this.rowBase = this.row * stride;
    this.place = placeOf(k, r.divisor);
    this.ago = k - r.buckets * r.divisor;
    this.first = Math.floor((this.ago - r.drift) / r.divisor);
    this.last = Math.floor((this.ago + r.drift) / r.divisor);
    this.firstRow = mod(this.first, r.length);
  }
}

/**
 * What ring `r` holds of series `i` within the drift of one cycle before the interval at `p`,
 * against a surprise of quantised size `q` (the bits above). One walk over the buckets
 * answers all three questions: `routineOf` asks them for every notable surprise.
 */
function scan(ring: Uint8Array, place: Uint8Array, r: RoutineRing, stride: number, i: number, p: RingPlace, q: number): number {
  if (r.length === 0) return 0;
  const { ago, last } = p;
  let bits = 0;
  // The ring's place of bucket b, walked forward from the first one's.
  for (let b = p.first, m = p.firstRow; b <= last; b++, m = m + 1 === r.length ? 0 : m + 1) {
    const j = m * stride + i;
    const past = ring[j]!;
    const size = past & Routine.SIZE;
    if (size + Routine.LIKE < q) continue;
    // The largest surprise of that bucket, where it was: within the drift of one cycle ago?
    const at = r.divisor === 1 ? b : b * r.divisor + (place[j]! * r.divisor) / 256;
    if (!(Math.abs(at - ago) <= r.drift + 0.5)) continue;
    bits |= Routine.LIKE_SEEN | (size >= q ? Routine.NO_LARGER : 0) | (past & Routine.REPEAT ? Routine.LIKE_REPEAT : 0);
  }
  return bits;
}

/**
 * Whether a surprise of quantised size `q` at the interval `at` of series `i` is a routine
 * (ROUTINE): no larger than one seen about then the day before; or like one seen about then
 * the day or the week before that was itself like one a cycle earlier: a job of varying size
 * is learned on its third night or its third week, and one coincidence is not a routine.
 * The other bits say whether it is like one a cycle before, to remember with it.
 */
export function routineOf(bank: SeriesBank, i: number, at: IntervalPlaces, q: number): number {
  const { day, week } = bank.layout.routine;
  let bits = 0;
  const daySeen = scan(bank.dayRing, bank.dayPlace, day, bank.capacity, i, at.day, q);
  if (daySeen & Routine.LIKE_SEEN) bits |= daySeen & (Routine.NO_LARGER | Routine.LIKE_REPEAT) ? Routine.DAILY_REPEAT | Routine.ROUTINE : Routine.DAILY_REPEAT;
  const weekSeen = scan(bank.weekRing, bank.weekPlace, week, bank.capacity, i, at.week, q);
  if (weekSeen & Routine.LIKE_SEEN) bits |= weekSeen & Routine.LIKE_REPEAT ? Routine.WEEKLY_REPEAT | Routine.ROUTINE : Routine.WEEKLY_REPEAT;
  return bits;
}

function write(ring: Uint8Array, place: Uint8Array, at: Uint32Array, r: RoutineRing, i: number, p: RingPlace, q: number, flag: number): void {
  if (r.length === 0) return;
  const bucket = p.bucket;
  const j = p.rowBase + i;
  // A new visit of the bucket starts afresh; within one visit the largest surprise stays, with its place and repeat bit; a record bit once set stays.
  const kept = at[i] !== bucket ? -1 : ring[j]!;
  if (kept < 0 || q > (kept & Routine.SIZE)) {
    ring[j] = q | (kept < 0 ? 0 : kept & Routine.RECORD) | flag;
    if (r.divisor > 1) place[j] = p.place;
    at[i] = bucket;
  } else ring[j] = kept | (flag & Routine.RECORD);
}

/** Whether a record (records.ts) fell within the drift of the interval `at`, a day before. */
export function recordRecurs(bank: SeriesBank, i: number, at: IntervalPlaces): boolean {
  const r = bank.layout.routine.day;
  if (r.length === 0) return false;
  const p = at.day;
  for (let b = p.first, m = p.firstRow; b <= p.last; b++, m = m + 1 === r.length ? 0 : m + 1) if (bank.dayRing[m * bank.capacity + i]! & Routine.RECORD) return true;
  return false;
}

/** Remembers a surprise of quantised size `q` at the interval `at` of series `i`, with what `routineOf` said of it. */
export function rememberSurprise(bank: SeriesBank, i: number, at: IntervalPlaces, q: number, routine: number, record: boolean): void {
  const { day, week } = bank.layout.routine;
  write(bank.dayRing, bank.dayPlace, bank.dayAt, day, i, at.day, q, (record ? Routine.RECORD : 0) | (routine & Routine.DAILY_REPEAT ? Routine.REPEAT : 0));
  write(bank.weekRing, bank.weekPlace, bank.weekAt, week, i, at.week, q, routine & Routine.WEEKLY_REPEAT ? Routine.REPEAT : 0);
}
