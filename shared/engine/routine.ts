import type { SeriesBank } from "./bank.ts";
import type { RoutineRing } from "./layout.ts";

/**
 * Routines: a surprise no larger than one seen about the same time the day before, or the
 * week before when that one was itself a weekly repeat, give or take 1/32 of a day
 * (layout.ts), is a routine: a nightly job that runs a few minutes early or late, a report
 * every Thursday at 09:00. The baseline's seasonal slots cannot learn those, because they
 * do not land in the same slot twice or are too rare to move a slot. Each ring keeps, per
 * bucket of its last cycle, the largest residual size seen and where in the bucket it was,
 * a byte each, in the series' state.
 */

/** Quantisation of residual sizes log(1 + |z|): 1/8 per step, 7 bits, so up to |z| ≈ 8·10^6. */
const STEPS = 8;
/** A residual size quantised to 7 bits. */
export const quantised = (u: number) => Math.min(127, Math.ceil(u * STEPS));
/** The eighth bit of a stored surprise: in the week ring, it was itself a repeat of the week before; in the day ring, a record fell in that bucket (records.ts). */
const FLAG = 128;

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** Where in its bucket interval `k` falls, as a byte (exact for up to 256 intervals a bucket). */
const placeOf = (k: number, divisor: number) => (divisor === 1 ? 0 : Math.floor((mod(k, divisor) * 256) / divisor));

function seenWithin(ring: Uint8Array, place: Uint8Array, r: RoutineRing, i: number, k: number, q: number, repeated: boolean): boolean {
  if (r.length === 0) return false;
  const base = i * r.length;
  const ago = k - r.buckets * r.divisor;
  const first = Math.floor((ago - r.drift) / r.divisor);
  const last = Math.floor((ago + r.drift) / r.divisor);
  for (let b = first; b <= last; b++) {
    const j = base + mod(b, r.length);
    const past = ring[j]!;
    if ((past & 127) < q || (repeated && (past & FLAG) === 0)) continue;
    // The largest surprise of that bucket, where it was: within the drift of one cycle ago?
    const at = r.divisor === 1 ? b : b * r.divisor + (place[j]! * r.divisor) / 256;
    if (Math.abs(at - ago) <= r.drift + 0.5) return true;
  }
  return false;
}

/** Bits of `routineOf`. */
export const DAILY_ROUTINE = 1;
export const WEEKLY_REPEAT = 2;
export const WEEKLY_ROUTINE = 4;

/**
 * Whether a surprise of quantised size `q` at interval `k` of series `i` is a routine: seen
 * about then a day before (DAILY_ROUTINE), or a week before (WEEKLY_REPEAT) when that one
 * was itself seen the week before (WEEKLY_ROUTINE: a weekly job is learned on its third
 * week; one coincidence a week apart is not a routine).
 */
export function routineOf(bank: SeriesBank, i: number, k: number, q: number): number {
  const { day, week } = bank.layout.routine;
  const daily = seenWithin(bank.dayRing, bank.dayPlace, day, i, k, q, false) ? DAILY_ROUTINE : 0;
  if (week.length === 0 || !seenWithin(bank.weekRing, bank.weekPlace, week, i, k, q, false)) return daily;
  return daily | WEEKLY_REPEAT | (seenWithin(bank.weekRing, bank.weekPlace, week, i, k, q, true) ? WEEKLY_ROUTINE : 0);
}

function write(ring: Uint8Array, place: Uint8Array, at: Uint32Array, r: RoutineRing, i: number, k: number, q: number, flag: number): void {
  if (r.length === 0) return;
  const bucket = Math.floor(k / r.divisor);
  const j = i * r.length + mod(bucket, r.length);
  // A new visit of the bucket starts afresh; within one visit the largest size stays, with its place, and a flag once set.
  if (at[i] !== bucket) {
    ring[j] = q | flag;
    if (r.divisor > 1) place[j] = placeOf(k, r.divisor);
    at[i] = bucket;
  } else {
    const kept = ring[j]!;
    if (q > (kept & 127)) {
      ring[j] = q | (kept & FLAG) | flag;
      if (r.divisor > 1) place[j] = placeOf(k, r.divisor);
    } else ring[j] = kept | flag;
  }
}

/** Whether a record (records.ts) fell within the drift of interval `k`, a day before. */
export function recordRecurs(bank: SeriesBank, i: number, k: number): boolean {
  const r = bank.layout.routine.day;
  if (r.length === 0) return false;
  const base = i * r.length;
  const ago = k - r.buckets * r.divisor;
  const last = Math.floor((ago + r.drift) / r.divisor);
  for (let b = Math.floor((ago - r.drift) / r.divisor); b <= last; b++) if (bank.dayRing[base + mod(b, r.length)]! & FLAG) return true;
  return false;
}

/** Remembers a surprise of quantised size `q` at interval `k` of series `i`, with what `routineOf` said of it. */
export function rememberSurprise(bank: SeriesBank, i: number, k: number, q: number, routine: number, record: boolean): void {
  const { day, week } = bank.layout.routine;
  write(bank.dayRing, bank.dayPlace, bank.dayAt, day, i, k, q, record ? FLAG : 0);
  write(bank.weekRing, bank.weekPlace, bank.weekAt, week, i, k, q, routine & WEEKLY_REPEAT ? FLAG : 0);
}
