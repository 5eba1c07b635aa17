import { SeriesBank } from "../engine/bank.ts";
import type { AnomalyGroupRecord } from "../model/anomaly.ts";
import { frameHead, unframe } from "./framed.ts";

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
  const head = frameHead({ through: Number.isNaN(s.through) ? null : s.through, openGroup: s.openGroup ?? null, feedbackThrough: s.feedbackThrough } satisfies SnapshotMeta);
  // The state is written after the head in one buffer: a shard's state is tens of MB, not copied twice.
  const out = s.bank.serialize(head.length);
  out.set(head, 0);
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): ModelSnapshot {
  return { bank: SeriesBank.deserialize(unframe(bytes).body), ...decodeSnapshotMeta(bytes) };
}

/** What a snapshot says beside its model (where detection got to, its open group), readable whatever the engine's format. */
export function decodeSnapshotMeta(bytes: Uint8Array): Omit<ModelSnapshot, "bank"> {
  const meta = unframe<SnapshotMeta>(bytes).header;
  return { through: meta.through ?? NaN, openGroup: meta.openGroup ?? undefined, feedbackThrough: meta.feedbackThrough ?? 0 };
}
