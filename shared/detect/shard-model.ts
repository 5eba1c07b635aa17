import { SeriesBank, SnapshotFormatChanged } from "../engine/bank.ts";
import { joinUri } from "../model/location.ts";
import type { BlobStore } from "../store/blobs.ts";
import { frame, unframe } from "./framed.ts";
import { modelUri } from "./results.ts";
import { isPartition, isShardHashKey, seriesHash, ShardLayout, type ShardHashKey, type ShardId } from "./shards.ts";
import { decodeSnapshot, decodeSnapshotMeta, encodeSnapshot, snapshotParts, type ModelSnapshot } from "./snapshot.ts";

/**
 * A metric set's model, kept shard by shard under its results folder:
 *   model/head.bin                   the head: which shards there are, where their snapshots are, and
 *                                    the metric set's part of the model (a ModelSnapshot with no series)
 *   model/<version>/s<shard>.bin     one ModelSnapshot per shard, holding that shard's series
 * A run writes the shards it changes into a version folder of its own and commits by writing
 * the head, one write: until then the head names the versions before, whole, so a run that
 * fails halfway leaves no trace in the model. A shard no run changed keeps its version;
 * folders no shard names are deleted after a commit.
 */

export interface ShardInfo {
  readonly id: ShardId;
  /** Time series (measure × dimension values) the shard's snapshot holds. */
  readonly series: number;
  /** The folder under model/ its snapshot is in: the run that last changed it ("" while it holds nothing). */
  readonly version: string;
}

export interface ShardedModel {
  /** Everything a snapshot carries besides its series (last interval learned, open group, feedback watermark), with an empty bank. */
  readonly head: ModelSnapshot;
  /** The shards, covering every hash once; a model that has learned nothing has the root alone, with no series. */
  readonly shards: readonly ShardInfo[];
  /** The key its series are hashed under to find their shards (shards.ts); none in a model made before keys. */
  readonly hashKey?: ShardHashKey;
  /**
   * Saved by an older engine, whose series state this one cannot read: its head says where
   * detection had got to, and its series are learned again from the history.
   */
  readonly outdated?: true;
}

/** A model saved before shards existed: one root shard, read where it was written. */
export const LEGACY_VERSION = "legacy";
/** 2: the head carries the model's hash key. A head of format 1 has none; an engine before keys refuses format 2 rather than find series in the wrong shards. */
const HEAD_FORMAT = 2;
const UNKEYED_HEAD_FORMAT = 1;

export const modelFolder = (root: string) => joinUri(root, "model");
export const headUri = (root: string) => joinUri(modelFolder(root), "head.bin");
export const shardUri = (root: string, version: string, id: ShardId) => (version === LEGACY_VERSION ? modelUri(root) : joinUri(modelFolder(root), version, `s${id}.bin`));

/** The model of a metric set that has learned nothing yet, its series hashed under `hashKey` (drawn at random by the caller). */
export function emptyModel(intervalMs: number, hashKey: ShardHashKey | undefined): ShardedModel {
  return { head: { bank: new SeriesBank(intervalMs, 0), through: NaN, openGroup: undefined, feedbackThrough: 0 }, shards: [{ id: "", series: 0, version: "" }], ...(hashKey ? { hashKey } : {}) };
}

/** All of a model's time series. */
export const seriesOf = (model: Pick<ShardedModel, "shards">) => model.shards.reduce((n, s) => n + s.series, 0);

export function encodeHead(model: ShardedModel): Uint8Array {
  const header = model.hashKey ? { format: HEAD_FORMAT, shards: model.shards, hashKey: model.hashKey } : { format: UNKEYED_HEAD_FORMAT, shards: model.shards };
  return frame(header, encodeSnapshot({ ...model.head, bank: new SeriesBank(model.head.bank.intervalMs, 0) }));
}

export function decodeHead(bytes: Uint8Array): ShardedModel {
  const { header: layout, body } = unframe<{ format: number; shards: ShardInfo[]; hashKey?: unknown }>(bytes);
  if (layout.format !== HEAD_FORMAT && layout.format !== UNKEYED_HEAD_FORMAT) throw new Error(`model head format ${layout.format} is not ${UNKEYED_HEAD_FORMAT} or ${HEAD_FORMAT}`);
  let hashKey: ShardHashKey | undefined;
  if (layout.format === HEAD_FORMAT) {
    if (!isShardHashKey(layout.hashKey)) throw new Error("model head has no hash key its format needs");
    hashKey = layout.hashKey;
  }
  if (!isPartition(layout.shards.map((s) => s.id))) throw new Error("model head names shards that do not cover the series exactly once");
  const { head, outdated } = headOf(body);
  return { head, shards: layout.shards, ...(hashKey ? { hashKey } : {}), ...(outdated ? { outdated } : {}) };
}

/**
 * A snapshot's part of the model beside its series, with an empty bank; outdated when an
 * older engine wrote it (every shard a head names was written by the engine that wrote the
 * head: a new engine's first run learns them all again).
 */
function headOf(bytes: Uint8Array): { head: ModelSnapshot; series: number; outdated?: true } {
  try {
    const snapshot = decodeSnapshot(bytes);
    return { head: { ...snapshot, bank: new SeriesBank(snapshot.bank.intervalMs, 0) }, series: snapshot.bank.size };
  } catch (e) {
    if (!(e instanceof SnapshotFormatChanged)) throw e;
    // Its interval is unknown to this engine; nothing reads the bank of an outdated head.
    return { head: { ...decodeSnapshotMeta(bytes), bank: new SeriesBank(1, 0) }, series: 0, outdated: true };
  }
}

/** The committed model of the metric set whose results are under `root`, or undefined before its first. */
export async function readModel(blobs: BlobStore, root: string): Promise<ShardedModel | undefined> {
  const saved = await blobs.get(headUri(root));
  if (saved) return decodeHead(saved);
  const legacy = await blobs.get(modelUri(root));
  if (!legacy) return undefined;
  const { head, series, outdated } = headOf(legacy);
  return { head, shards: [{ id: "", series, version: LEGACY_VERSION }], ...(outdated ? { outdated } : {}) };
}

/** The committed series of the shard holding `seriesKey` (a dimension combination, every measure). */
export async function readShardOf(blobs: BlobStore, root: string, model: ShardedModel, seriesKey: string, intervalMs: number): Promise<SeriesBank> {
  const shard = model.shards[new ShardLayout(model.shards.map((s) => s.id)).indexOf(seriesHash(seriesKey, model.hashKey))]!;
  return readShard(blobs, root, shard.version, shard.id, intervalMs);
}

/** One shard's series as committed in `version` (an empty bank for a shard no version holds yet). */
export async function readShard(blobs: BlobStore, root: string, version: string, id: ShardId, intervalMs: number): Promise<SeriesBank> {
  if (version === "") return new SeriesBank(intervalMs);
  const bytes = await blobs.get(shardUri(root, version, id));
  if (!bytes) throw new Error(`the model's shard s${id} of version ${version} is missing`);
  let bank: SeriesBank;
  try {
    // The bytes are this read's own: the bank keeps its state where they lie.
    bank = decodeSnapshot(bytes, { adopt: true }).bank;
  } catch (e) {
    throw new Error(`the model's shard s${id} of version ${version} is unreadable (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  // Its cycles, event holds and interval numbers are laid out for its own interval: scored at another, every series would be misread.
  if (bank.intervalMs !== intervalMs) throw new ModelFrequencyChanged(id, version, bank.intervalMs, intervalMs);
  return bank;
}

/** A shard of a model learned at another interval than its metric set's frequency: its series are not scored as another frequency's. */
export class ModelFrequencyChanged extends Error {
  override readonly name = "ModelFrequencyChanged";
  readonly code = "ModelFrequencyChanged";
  constructor(
    readonly shard: ShardId,
    readonly version: string,
    readonly found: number,
    readonly expected: number,
  ) {
    super(`the model's shard s${shard} of version ${version} was learned every ${found / 1000} s, the metric set runs every ${expected / 1000} s`);
  }
}

export async function writeShard(blobs: BlobStore, root: string, version: string, id: ShardId, bank: SeriesBank, head: ModelSnapshot): Promise<void> {
  await blobs.put(shardUri(root, version, id), snapshotParts({ ...head, bank }));
}

/** Whether a version is an interval run's (`<interval start>-<run>`) of an interval after `through` (any, before the first). */
function ofLaterRun(version: string, through: number): boolean {
  const start = Number(version.slice(0, version.indexOf("-")));
  return version.indexOf("-") > 0 && Number.isSafeInteger(start) && !(start <= through);
}

/** Commits a model: its head names the version folder of each shard. */
export async function commitModel(blobs: BlobStore, root: string, model: ShardedModel): Promise<void> {
  await blobs.put(headUri(root), encodeHead(model));
}

/**
 * Deletes the version folders the committed model no longer names, but for those of runs of
 * later intervals: the next interval may run as soon as this commit is read, in another
 * invocation, whose shards (written, or committed since) this one's listing would otherwise
 * take. Answers how many objects went.
 */
export async function collectVersions(blobs: BlobStore, root: string, model: Pick<ShardedModel, "shards" | "head">): Promise<number> {
  const keep = new Set(model.shards.map((s) => s.version));
  const folder = `${modelFolder(root)}/`;
  const versions = new Set<string>();
  for (const uri of await blobs.list(folder)) {
    const rest = uri.slice(folder.length).split("/");
    if (rest.length > 1 && !keep.has(rest[0]!) && !ofLaterRun(rest[0]!, model.head.through)) versions.add(rest[0]!);
  }
  let deleted = 0;
  for (const v of versions) deleted += await blobs.deleteFolder(`${joinUri(modelFolder(root), v)}/`);
  return deleted;
}
