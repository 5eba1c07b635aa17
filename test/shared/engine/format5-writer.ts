import { pad8, snapshotHead, type SeriesBank, type Typed } from "../../../shared/engine/bank.ts";

/** What a test reaches of a bank's layout: its fields as a format lists them, and its arrays' stride. */
type Inside = { fields(format: number): [string, number, boolean][]; capacity: number } & Record<string, Typed>;

/**
 * A bank's state as the format-5 engine saved it: the same header, every array series-major
 * (a slot-major one turned back), each 8-byte aligned, no group membership (format 7's) nor
 * when an open event began (format 8's).
 * It gave the fixtures of ./format5 byte for byte from the engine they were saved by.
 */
export function toFormat5(bank: SeriesBank): Uint8Array {
  const inside = bank as unknown as Inside;
  const parts: Uint8Array[] = [snapshotHead(5, bank.intervalMs, bank.keys)];
  for (const [name, per, bySlot] of inside.fields(5)) {
    const a = inside[name]!;
    const out = new (a.constructor as new (n: number) => Typed)(bank.size * per);
    if (bySlot) for (let i = 0; i < bank.size; i++) for (let r = 0; r < per; r++) out[i * per + r] = a[r * inside.capacity + i]!;
    else out.set(a.subarray(0, bank.size * per));
    parts.push(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), new Uint8Array(pad8(out.byteLength)));
  }
  return new Uint8Array(Buffer.concat(parts));
}
