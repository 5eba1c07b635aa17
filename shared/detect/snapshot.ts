import { SeriesBank } from "../engine/bank.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import { frameHead, joined, unframe } from "./framed.ts";

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

interface SnapshotMeta {
  readonly through: number | null;
  readonly openGroup: AnomalyGroupRecord | null;
  readonly feedbackThrough?: number;
}

export function encodeSnapshot(s: ModelSnapshot): Uint8Array {
  return joined(snapshotParts(s));
}

/**
 * A snapshot as the parts to write one after another: its head, then the state as views of
 * the bank's arrays (a shard's state is tens of MB, not copied into one buffer first). The
 * state starts 8-byte aligned, so decodeSnapshot can adopt it where it lies.
 */
export function snapshotParts(s: ModelSnapshot): Uint8Array[] {
  const head = frameHead({ through: Number.isNaN(s.through) ? null : s.through, openGroup: s.openGroup ?? null, feedbackThrough: s.feedbackThrough } satisfies SnapshotMeta, 8);
  return [head, ...s.bank.serializeParts()];
}

/** With `adopt`, the bytes are the caller's to give away: the bank's state may be views of them (SeriesBank.deserialize). */
export function decodeSnapshot(bytes: Uint8Array, options: { adopt?: boolean } = {}): ModelSnapshot {
  return { bank: SeriesBank.deserialize(unframe(bytes).body, options), ...decodeSnapshotMeta(bytes) };
}

/** What a snapshot says beside its model (where detection got to, its open group), readable whatever the engine's format. */
export function decodeSnapshotMeta(bytes: Uint8Array): Omit<ModelSnapshot, "bank"> {
  const meta = unframe<SnapshotMeta>(bytes).header;
  return { through: meta.through ?? NaN, openGroup: meta.openGroup ?? undefined, feedbackThrough: meta.feedbackThrough ?? 0 };
}
