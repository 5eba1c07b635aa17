import { type CellWalk } from "../ingest/aggregate.ts";
import { seriesKeyOf } from "../ingest/series-key.ts";
import type { Anomaly, AnomalyGroupRecord } from "../model/anomaly.ts";
import { dimensionsOf } from "../model/metric-set.ts";
import type { RecentValues } from "./group-event.ts";
import { pointsOf, seriesKeyOfBankKey, type ShardJob, type ShardMetricSet, type ShardResult, type Verdict } from "./shard-job.ts";
import type { ShardedModel, ShardInfo } from "./shard-model.ts";
import { descendantsOf, holds, isPartition, levelsFor, MAX_SHARD_DEPTH, seriesHash, ShardLayout, type ShardId } from "./shards.ts";
import { bankKey } from "./score-interval.ts";

/**
 * One interval, planned shard by shard (the coordinator's part), and the shards' answers
 * merged back into what one unsharded run finds (the merge's part).
 */

/** What one shard is handed for one interval, before its input is encoded. */
export interface PlannedShard {
  readonly target: ShardId;
  /** The committed shard whose place the target takes (itself, or the shard it splits from). */
  readonly replaces: ShardId;
  readonly source: ShardJob["source"];
  /** The cells of the target's series, each with its place in the interval. */
  readonly cells: ShardCellColumns;
  readonly verdicts: Verdict[];
  /** Bank keys of the open group's series in the target, whose recent values the events chart. */
  readonly chart: string[];
  readonly readOnly: boolean;
}

/**
 * One shard's cells of one interval in columns: each cell's place among the interval's
 * cells, its series key, and its sums and counts (`measures` numbers each, in order). An
 * interval of a million series is routed without an object per cell.
 */
export interface ShardCellColumns {
  readonly ordinals: number[];
  readonly keys: string[];
  readonly sums: number[];
  readonly counts: number[];
}

const noCells = (): ShardCellColumns => ({ ordinals: [], keys: [], sums: [], counts: [] });

interface Routed extends ShardCellColumns {
  readonly hashes: number[];
  readonly verdicts: (readonly [Verdict, number])[];
  readonly chart: (readonly [string, number])[];
}

/** The cells of `r` whose series hash `keep` takes. */
function picked(r: Routed, measures: number, keep: (hash: number) => boolean): ShardCellColumns {
  const out = noCells();
  r.hashes.forEach((hash, i) => {
    if (!keep(hash)) return;
    out.ordinals.push(r.ordinals[i]!);
    out.keys.push(r.keys[i]!);
    for (let m = 0; m < measures; m++) {
      out.sums.push(r.sums[i * measures + m]!);
      out.counts.push(r.counts[i * measures + m]!);
    }
  });
  return out;
}

const sourceOf = (s: ShardInfo): ShardJob["source"] => (s.version === "" ? undefined : { id: s.id, version: s.version });

/** Bank keys of every series of a group, as the chart of its events looks them up. */
function groupKeys(group: AnomalyGroupRecord | undefined): string[] {
  if (!group) return [];
  return Object.values(group.impacts).flatMap((impact) => Object.values(impact.series).map((dims) => bankKey(impact.measure, seriesKeyOf(group.dimensionNames.map((d) => dims[d] ?? "")))));
}

/**
 * Splits one interval's cells over the model's shards. A shard with nothing to learn is
 * left as committed (read only when the open group's chart needs some of its series); a
 * shard given more cells than `capacity` time series is split first, by as many bits as
 * it takes, each part a job of its own that reads the shard's committed snapshot. The
 * series of the open group (as the model carries it: the ones its record keeps) are read for
 * its chart. With `marking`, a shard holding some of them is written even without cells, so
 * that its bank keeps them as members (shard-job.ts, markMembers): the group a model of the
 * format before carries holds members its record will not.
 */
export function planInterval(model: ShardedModel, metricSet: ShardMetricSet, cells: CellWalk | undefined, verdicts: readonly Verdict[], capacity: number, marking = false): PlannedShard[] {
  const layout = new ShardLayout(model.shards.map((s) => s.id));
  const measures = metricSet.MetricList.length;
  const dims = dimensionsOf(metricSet);
  const routed = model.shards.map((): Routed => ({ ...noCells(), hashes: [], verdicts: [], chart: [] }));
  let ordinal = 0;
  cells?.forEach((cell, key) => {
    const hash = seriesHash(key, model.hashKey);
    const r = routed[layout.indexOf(hash)]!;
    r.ordinals.push(ordinal++);
    r.keys.push(key);
    r.hashes.push(hash);
    for (let m = 0; m < measures; m++) {
      r.sums.push(cell.sums[m]!);
      r.counts.push(cell.counts[m]!);
    }
  });
  for (const v of verdicts) {
    const hash = seriesHash(seriesKeyOf(dims.map((d) => v.dimensions[d] ?? "")), model.hashKey);
    routed[layout.indexOf(hash)]!.verdicts.push([v, hash]);
  }
  for (const key of new Set(groupKeys(model.head.openGroup))) {
    const hash = seriesHash(seriesKeyOfBankKey(key), model.hashKey);
    routed[layout.indexOf(hash)]!.chart.push([key, hash]);
  }
  return model.shards.flatMap((shard, s): PlannedShard[] => {
    const r = routed[s]!;
    const source = sourceOf(shard);
    const learns = r.keys.length > 0 || r.verdicts.length > 0 || shard.series > capacity || (marking && r.chart.length > 0);
    if (!learns) return r.chart.length ? [{ target: shard.id, replaces: shard.id, source, cells: noCells(), verdicts: [], chart: r.chart.map(([k]) => k), readOnly: true }] : [];
    // No deeper than a shard can be: series whose hashes all agree stay in one shard past its capacity, rather than stopping detection (a model made before hash keys, whose hash a tenant can make collide).
    const parts = descendantsOf(shard.id, Math.min(levelsFor(r.keys.length * measures, capacity), MAX_SHARD_DEPTH - shard.id.length));
    return parts.map((target) => ({
      target,
      replaces: shard.id,
      source,
      cells: parts.length === 1 ? r : picked(r, measures, (h) => holds(target, h)),
      verdicts: r.verdicts.filter(([, h]) => holds(target, h)).map(([v]) => v),
      chart: r.chart.filter(([, h]) => holds(target, h)).map(([k]) => k),
      readOnly: false,
    }));
  });
}

/** The shards of the model after a run: the shards it replaced give way to those its jobs wrote. */
export function shardsAfter(model: Pick<ShardedModel, "shards">, planned: readonly Pick<PlannedShard, "replaces" | "readOnly">[], results: readonly Pick<ShardResult, "written">[]): ShardInfo[] {
  const replaced = new Set(planned.filter((p) => !p.readOnly).map((p) => p.replaces));
  const shards = [...model.shards.filter((s) => !replaced.has(s.id)), ...results.flatMap((r) => r.written)].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (!isPartition(shards.map((s) => s.id))) throw new Error(`the run's shards ${JSON.stringify(shards.map((s) => s.id))} do not cover the series exactly once`);
  return shards;
}

/** The shards' anomalies in the order one unsharded run finds them (its groups add them up in that order). */
export const anomaliesOf = (results: readonly Pick<ShardResult, "anomalies">[]): Anomaly[] =>
  results
    .flatMap((r) => r.anomalies)
    .sort((a, b) => a[0] - b[0])
    .map(([, a]) => a);

/** The recent values the shards reported, for the events' charts. */
export function recentValuesFrom(results: readonly Pick<ShardResult, "windows">[], intervalMs: number): RecentValues {
  const windows = new Map<string, (number | null)[]>();
  for (const r of results) for (const [key, w] of Object.entries(r.windows)) windows.set(key, w);
  return {
    intervalMs,
    window: (key, k, n) => {
      const w = windows.get(key);
      return w ? pointsOf(w, k).slice(-n) : undefined;
    },
  };
}
