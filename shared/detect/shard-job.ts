import { SeriesBank } from "../engine/bank.ts";
import { recentWindow, type RecentPoint } from "../engine/recent.ts";
import { type CellWalk, type SeriesCell } from "../ingest/aggregate.ts";
import { dimensionsOfKey, seriesKeyOf } from "../ingest/series-key.ts";
import type { Anomaly } from "../model/anomaly.ts";
import { intervalMs } from "../model/frequency.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import type { BlobStore } from "../store/blobs.ts";
import { CHART_INTERVALS } from "./group-event.ts";
import { frame, unframe } from "./framed.ts";
import { encodeKeptPoints } from "./series-points.ts";
import { readShard, writeShard, type ShardInfo } from "./shard-model.ts";
import { halvesOf, holds, MAX_SHARD_DEPTH, seriesHash, type ShardHashKey, type ShardId } from "./shards.ts";
import { applyVerdict, bankKey, scoreInterval } from "./score-interval.ts";
import { noMembers, type MemberTally } from "../incidents/grouping.ts";
import type { ShardCellColumns } from "./shard-plan.ts";

/** What a shard job knows of its metric set: what scoring and grouping read. */
export type ShardMetricSet = Pick<MetricSet, "MetricSetArn" | "AnomalyDetectorArn" | "MetricList" | "DimensionList" | "MetricSetFrequency">;

/** A person's verdict on one series, as the engine learns it (app/feedback.ts keeps them). */
export interface Verdict {
  readonly measure: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly z: number;
  readonly IsAnomaly: boolean;
}

/** Where a job's input is: in memory (handed to a worker thread), or a blob (written for a queued job). */
export type JobInput = { readonly bytes: Uint8Array } | { readonly uri: string };

/**
 * One shard's part of a run: load the series of `target` from the committed snapshot of
 * `source` (the target itself, or the shard it splits from), learn the input (one
 * interval's cells, or the history spilled for it), and write the result into the run's
 * version folder, split into halves while it holds more than `capacity` time series.
 */
export interface ShardJob {
  readonly metricSet: ShardMetricSet;
  /** The metric set's results folder. */
  readonly root: string;
  readonly target: ShardId;
  /** The committed shard holding the target's series; none before the model holds any. */
  readonly source: { readonly id: ShardId; readonly version: string } | undefined;
  /** The folder this run writes its shards to. */
  readonly version: string;
  readonly capacity: number;
  /** The model's hash key (shards.ts): which part of a split shard a series goes to. */
  readonly hashKey?: ShardHashKey;
  readonly input:
    | { readonly kind: "interval"; readonly cells: JobInput }
    /** `keep`: the intervals of history whose points are kept (series-points.ts), the last ones before the first live one. */
    | { readonly kind: "history"; readonly spills: readonly string[]; readonly before: number; readonly keep: readonly number[] };
  /** Nothing to learn, only recent values to read for the merge's charts: the shard stays as committed. */
  readonly readOnly?: boolean;
}

/** A shard job's answer to the merge. */
export interface ShardResult {
  readonly target: ShardId;
  /** The shards written (the target, or its parts); none for a read-only job. */
  readonly written: ShardInfo[];
  /** This interval's anomalies of the shard, each with its place in the order one unsharded run finds them. */
  readonly anomalies: (readonly [order: number, anomaly: Anomaly])[];
  /** Recent values of the series the merge charts, by bank key: actual, expected and scale per interval, null where unknown. */
  readonly windows: Readonly<Record<string, (number | null)[]>>;
  /** What the shard's series say of the open group's members (scoreInterval): whether it takes this interval's anomalies, how many series they add, whether it stays open. */
  readonly members: MemberTally;
  /** The shard's part of each kept interval's series points (series-points.ts), sorted by key. */
  readonly kept: KeptPart[];
  /** Intervals of history learned. */
  readonly learned: number;
}

/** One shard's series points of one interval, encoded. */
export interface KeptPart {
  readonly intervalStart: number;
  readonly points: Uint8Array;
}

/** One interval's cells of one shard, with what else the shard learns and reports then. */
export interface ShardCells {
  readonly intervalStart: number;
  /** The cells, in the interval's order, read through one reused cell. */
  readonly cells: CellWalk;
  /** A series' place among all the interval's cells. */
  readonly ordinalOf: (seriesKey: string) => number | undefined;
  /** Verdicts given since the model last learned, oldest first, on this shard's series. */
  readonly verdicts: readonly Verdict[];
  /** Bank keys of series the merge charts (the open group's). */
  readonly chart: readonly string[];
  /** The first interval of the metric set's open group, if one is open: its series are counted against it (MemberTally). */
  readonly groupStart: number | undefined;
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** The cells a coordinator hands one shard: a JSON header (series keys, verdicts, chart keys), then sums, counts and ordinals. */
export function encodeShardCells(c: { intervalStart: number; measures: number; cells: ShardCellColumns; verdicts: readonly Verdict[]; chart: readonly string[]; groupStart: number | undefined }): Uint8Array {
  const n = c.cells.keys.length;
  const m = c.measures;
  const header = new TextEncoder().encode(JSON.stringify({ intervalStart: c.intervalStart, measures: m, keys: c.cells.keys, verdicts: c.verdicts, chart: c.chart, groupStart: c.groupStart }));
  const at = 8 + header.length + pad8(header.length);
  const out = new Uint8Array(at + 8 * n * m * 2 + 4 * n);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.length, true);
  view.setUint32(4, n, true);
  out.set(header, 8);
  new Float64Array(out.buffer, at, n * m).set(c.cells.sums);
  new Float64Array(out.buffer, at + 8 * n * m, n * m).set(c.cells.counts);
  new Uint32Array(out.buffer, at + 16 * n * m, n).set(c.cells.ordinals);
  return out;
}

export function decodeShardCells(bytes: Uint8Array): ShardCells {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  const n = view.getUint32(4, true);
  // `dimensions` and `exact`: what coordinators of earlier versions sent, still queued while one is deployed (their keys joined every value).
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as { intervalStart: number; measures: number; keys?: string[]; exact?: [number, string[]][]; dimensions?: string[][]; verdicts: Verdict[]; chart: string[]; groupStart?: number };
  const keys = header.keys ?? (header.dimensions ?? []).map(seriesKeyOf);
  const exact = new Map<number, readonly string[]>(header.exact ?? (header.dimensions ?? []).map((d, i) => [i, d] as const));
  const m = header.measures;
  const at = 8 + length + pad8(length);
  // Copied out of the blob: its bytes need not be aligned for a typed array's view.
  const numbers = new Float64Array(new Uint8Array(bytes.subarray(at, at + 16 * n * m)).buffer);
  const ordinals = new Uint32Array(new Uint8Array(bytes.subarray(at + 16 * n * m, at + 16 * n * m + 4 * n)).buffer);
  let places: Map<string, number> | undefined;
  return {
    intervalStart: header.intervalStart,
    cells: { size: keys.length, forEach: (visit) => walkColumns(keys, exact, numbers, m, visit) },
    // Asked for each anomaly only: the map is made on the first.
    ordinalOf: (key) => (places ??= new Map(keys.map((k, i) => [k, ordinals[i]!]))).get(key),
    verdicts: header.verdicts,
    chart: header.chart,
    // An earlier version's coordinator named no group: its open group's series are counted as none (a run while one is deployed).
    groupStart: header.groupStart,
  };
}

/** The cells of decoded columns through one reused cell; its dimensions are read from the key when asked for (or given, by an earlier version's coordinator). */
function walkColumns(keys: readonly string[], exact: ReadonlyMap<number, readonly string[]>, numbers: Float64Array, m: number, visit: (cell: SeriesCell, seriesKey: string) => void): void {
  const n = keys.length;
  let key = "";
  let split: readonly string[] | undefined;
  const cell: SeriesCell = {
    get dimensions() {
      return (split ??= dimensionsOfKey(key));
    },
    sums: new Array<number>(m).fill(0),
    counts: new Array<number>(m).fill(0),
  };
  for (let i = 0; i < n; i++) {
    key = keys[i]!;
    split = exact.size ? exact.get(i) : undefined;
    for (let j = 0; j < m; j++) {
      cell.sums[j] = numbers[i * m + j]!;
      cell.counts[j] = numbers[n * m + i * m + j]!;
    }
    visit(cell, key);
  }
}

/** The series key of a bank key (`measure␞series key`, score-interval.ts). */
export const seriesKeyOfBankKey = (key: string) => key.slice(key.indexOf("\u001e") + 1);

/** The part of `bank` that shard `id` holds. */
function partOf(bank: SeriesBank, id: ShardId, hashKey: ShardHashKey | undefined): SeriesBank {
  const slots: number[] = [];
  bank.keys.forEach((key, i) => {
    if (holds(id, seriesHash(seriesKeyOfBankKey(key), hashKey))) slots.push(i);
  });
  return slots.length === bank.size ? bank : bank.select(slots);
}

/** The shard, or its halves (and theirs) until each holds at most `capacity` time series. */
function fitted(id: ShardId, bank: SeriesBank, capacity: number, hashKey: ShardHashKey | undefined): [ShardId, SeriesBank][] {
  if (bank.size <= capacity || id.length === MAX_SHARD_DEPTH) return [[id, bank]];
  return halvesOf(id).flatMap((half) => fitted(half, partOf(bank, half, hashKey), capacity, hashKey));
}

/** Where in the unsharded order an anomaly falls: its cell's place, then its measure's. */
function orderOf(a: Anomaly, metricSet: ShardMetricSet, ordinalOf: ShardCells["ordinalOf"]): number {
  const key = seriesKeyOf(dimensionsOf(metricSet).map((d) => a.dimensions[d] ?? ""));
  return ordinalOf(key)! * metricSet.MetricList.length + metricSet.MetricList.findIndex((x) => x.MetricName === a.measure);
}

const windowOf = (points: readonly RecentPoint[]) => points.flatMap((p) => [p.actual, p.expected, p.scale].map((x) => (Number.isNaN(x) ? null : x)));

/**
 * The open group's series the merge named (its record's) are its members, whatever the bank
 * says: a model saved before banks kept anomaly times learns them so.
 */
function markMembers(bank: SeriesBank, keys: readonly string[], since: number): void {
  if (Number.isNaN(since)) return;
  const k = Math.floor(since / bank.intervalMs);
  for (const key of keys) {
    const slot = bank.find(key);
    if (slot !== undefined && !(bank.lastAnomalyK[slot]! >= k)) bank.lastAnomalyK[slot] = k;
  }
}

/** Runs one shard job: reads its shard, learns, writes the result (unless read-only), and answers what the merge needs. */
export async function runShard(blobs: BlobStore, job: ShardJob): Promise<ShardResult> {
  const len = intervalMs(job.metricSet.MetricSetFrequency);
  const committed = job.source ? await readShard(blobs, job.root, job.source.version, job.source.id, len) : new SeriesBank(len);
  const bank = job.source && job.source.id !== job.target ? partOf(committed, job.target, job.hashKey) : committed;
  let anomalies: ShardResult["anomalies"] = [];
  const windows: Record<string, (number | null)[]> = {};
  const members = noMembers();
  let kept: KeptPart[] = [];
  let learned = 0;
  let through = NaN;
  if (job.input.kind === "interval") {
    const input = decodeShardCells("bytes" in job.input.cells ? job.input.cells.bytes : await required(blobs, job.input.cells.uri));
    through = input.intervalStart;
    if (!job.readOnly) {
      for (const v of input.verdicts) applyVerdict(bank, job.metricSet, v);
      const since = input.groupStart ?? NaN;
      markMembers(bank, input.chart, since);
      const slots: number[] = [];
      const found = scoreInterval(bank, job.metricSet, input.cells, input.intervalStart, { members: { since, tally: members }, slots });
      anomalies = found.map((a) => [orderOf(a, job.metricSet, input.ordinalOf), a] as const);
      kept = [{ intervalStart: input.intervalStart, points: encodeKeptPoints(bank, job.metricSet, slots, input.intervalStart, found) }];
    }
    const k = Math.floor(input.intervalStart / len);
    const dims = dimensionsOf(job.metricSet);
    const charted = new Set([...input.chart, ...anomalies.map(([, a]) => bankKey(a.measure, seriesKeyOf(dims.map((d) => a.dimensions[d] ?? ""))))]);
    for (const key of charted) if (bank.has(key)) windows[key] = windowOf(recentWindow(bank, bank.slot(key), k, CHART_INTERVALS));
  } else {
    // Loaded by the first history job: most jobs score an interval.
    const { learnSpilled } = await import("./shard-history.ts");
    const walked = await learnSpilled(blobs, bank, job.metricSet, job.input.spills, job.input.before, new Set(job.input.keep));
    learned = walked.intervals;
    through = walked.through;
    kept = walked.kept;
  }
  const answer = { target: job.target, anomalies, windows, members, kept, learned };
  if (job.readOnly) return { ...answer, written: [] };
  const written: ShardInfo[] = [];
  for (const [id, part] of fitted(job.target, bank, job.capacity, job.hashKey)) {
    await writeShard(blobs, job.root, job.version, id, part, { bank: part, through, openGroup: undefined, feedbackThrough: 0 });
    written.push({ id, series: part.size, version: job.version });
  }
  return { ...answer, written };
}

/** A result as the shard queue keeps it beside its run's plan: a JSON header, then the kept points' bytes. */
export function encodeShardResult(result: ShardResult): Uint8Array {
  return frame({ ...result, kept: result.kept.map((k) => ({ intervalStart: k.intervalStart, bytes: k.points.byteLength })) }, ...result.kept.map((k) => k.points));
}

export function decodeShardResult(bytes: Uint8Array): ShardResult {
  const { header, body } = unframe<Omit<ShardResult, "kept"> & { kept: { intervalStart: number; bytes: number }[] }>(bytes);
  let at = 0;
  return { ...header, kept: header.kept.map((k) => ({ intervalStart: k.intervalStart, points: body.subarray(at, (at += k.bytes)) })) };
}

async function required(blobs: BlobStore, uri: string): Promise<Uint8Array> {
  const bytes = await blobs.get(uri);
  if (!bytes) throw new Error(`the shard job's input ${uri} is missing`);
  return bytes;
}

/** The recent values a shard reported, back as the engine's points (NaN where unknown). */
export function pointsOf(window: readonly (number | null)[], k: number): RecentPoint[] {
  const n = window.length / 3;
  return Array.from({ length: n }, (_, j) => ({ k: k - n + 1 + j, actual: window[3 * j] ?? NaN, expected: window[3 * j + 1] ?? NaN, scale: window[3 * j + 2] ?? NaN }));
}

/** A shard job that kept failing: its run cannot commit, and its interval says why. */
export class ShardFailed extends Error {
  override readonly name = "ShardFailed";
  readonly code = "ShardFailed";
  readonly shard: ShardId;
  readonly attempts: number;
  constructor(shard: ShardId, attempts: number, reason: string) {
    super(`shard s${shard} failed ${attempts === 1 ? "once" : `${attempts} times`}: ${reason}`);
    this.shard = shard;
    this.attempts = attempts;
  }
}
