import { SeriesBank } from "../engine/bank.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";

/**
 * What one metric set's detection carries from interval to interval, saved as one blob so
 * that committing an interval is one write: the engine's state, the last interval it
 * learned and the anomaly group still open.
 */
export interface ModelSnapshot {
  readonly bank: SeriesBank;
  /** Start (epoch ms) of the last interval learned; NaN before any. */
  through: number;
  openGroup: AnomalyGroupRecord | undefined;
  /** When (epoch ms) the last feedback the model learned from was given; 0 before any. */
  feedbackThrough: number;
}

export function encodeSnapshot(s: ModelSnapshot): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify({ through: Number.isNaN(s.through) ? null : s.through, openGroup: s.openGroup ?? null, feedbackThrough: s.feedbackThrough }));
  const bank = s.bank.serialize();
  const out = new Uint8Array(4 + meta.length + bank.length);
  new DataView(out.buffer).setUint32(0, meta.length, true);
  out.set(meta, 4);
  out.set(bank, 4 + meta.length);
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): ModelSnapshot {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  return { bank: SeriesBank.deserialize(bytes.subarray(4 + length)), ...decodeSnapshotMeta(bytes) };
}

/** What a snapshot says beside its model (where detection got to, its open group), readable whatever the engine's format. */
export function decodeSnapshotMeta(bytes: Uint8Array): Omit<ModelSnapshot, "bank"> {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as { through: number | null; openGroup: AnomalyGroupRecord | null; feedbackThrough?: number };
  return { through: meta.through ?? NaN, openGroup: meta.openGroup ?? undefined, feedbackThrough: meta.feedbackThrough ?? 0 };
}
