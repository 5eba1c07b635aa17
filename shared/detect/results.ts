import { metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { joinUri } from "../model/location.ts";
import { messageForTenant, type ShownPaths } from "../model/redact.ts";
import type { ShardId } from "./shards.ts";

/**
 * Where a metric set's results live under the results root:
 *   <root>/<account>/<detector>/<metric set>/model/head.bin       the model's head (the commit point; shard-model.ts)
 *                                              /model/<version>/s<shard>.bin  one snapshot per shard
 *                                              /model.bin          a model saved before shards, read as one shard
 *                                              /runs/...           a run's plan, shard inputs and results, until it commits
 *   <root>/<account>/<detector>/<metric set>/<yyyyMMdd>/<HHmm>/anomalies.jsonl
 *                                                  /rejects.jsonl  rows kept aside, with reasons
 *                                                  /quality.json   the data quality report
 */
export function metricSetRoot(resultsRoot: string, metricSet: Pick<MetricSet, "MetricSetArn">): string {
  return joinUri(resultsRoot, metricSetKey(metricSet.MetricSetArn));
}

/** Where a run keeps its plan, shard inputs and results until it commits: `runs/<interval start or "history">/<run>`. */
export const runsUri = (root: string, ...parts: string[]) => joinUri(root, "runs", ...parts);

/** Where a run handed to the shard queue keeps its plan, which its merge reads: gone once the run is over (merged, or parked). */
export const planUri = (work: string) => joinUri(work, "plan.json");

/** Where a run's shard job writes its result, and where its input is. */
export const resultUri = (work: string, target: ShardId) => joinUri(work, "results", `s${target}.bin`);
export const inputUri = (work: string, target: ShardId) => joinUri(work, "in", `s${target}.bin`);
/** Why a step of a run last failed: `s<shard>` for a shard job, `merge` for the merge. */
export const failureUri = (work: string, step: string) => joinUri(work, "failed", `${step}.json`);

/**
 * A failure's reason as L4M's FailureReason carries it (at most 256 characters), which the
 * tenant reads: no path of the server's it may not see (redact.ts). Given no paths it may see,
 * every absolute path is hidden; the operator logs the error itself.
 */
export const failureReasonOf = (e: unknown, shown?: ShownPaths) => messageForTenant(e, shown).slice(0, 256);

/**
 * The paths a tenant may see in the failures of its metric sets (one's interval, a detector's
 * activation or back-test): the folders it may read, the paths the metric sets name; never
 * Vigil's results store. Without data roots (`folders` undefined: the operator alone uses
 * Vigil, services.ts), every other path is the operator's own, and shown.
 */
export function pathsShownFor(metricSets: readonly Pick<MetricSet, "MetricSource">[], folders: readonly string[] | undefined, resultsRoot: string): ShownPaths {
  const named = metricSets.flatMap((m) => [...(m.MetricSource?.S3SourceConfig?.HistoricalDataPathList ?? []), ...(m.MetricSource?.S3SourceConfig?.TemplatedPathList ?? [])]);
  return { folders, exact: named, hidden: [resultsRoot], ...(folders === undefined ? { anywhere: true } : {}) };
}

/** A failure's reason as account `accountId`'s tenant reads it (failureReasonOf): its data roots' paths and those its `metricSets` name shown (pathsShownFor). */
export const tenantFailureReason = (deps: { readonly dataRootsOf: (accountId: string) => readonly string[] | undefined; readonly resultsRoot: string }, accountId: string, e: unknown, metricSets: readonly Pick<MetricSet, "MetricSource">[] = []) =>
  failureReasonOf(e, pathsShownFor(metricSets, deps.dataRootsOf(accountId), deps.resultsRoot));

/** Where a model saved before shards existed is (read as the root shard; shard-model.ts). */
export const modelUri = (root: string) => joinUri(root, "model.bin");

/** An interval's folder, `<yyyyMMdd>/<HHmm>` in UTC (no date library: the time of day in UTC is all it needs). */
export function intervalUri(root: string, intervalStart: number): string {
  const [date = "", time = ""] = new Date(intervalStart).toISOString().split("T");
  return joinUri(root, date.replaceAll("-", ""), time.slice(0, 5).replace(":", ""));
}

export const toJsonLines = (items: readonly unknown[]) => items.map((i) => JSON.stringify(i)).join("\n") + (items.length ? "\n" : "");

/** About how many characters of lines one part of jsonLinesParts holds. */
const PART_CHARS = 1 << 20;

/**
 * Items as JSON Lines (each as `line` makes it), encoded a mebibyte at a time: a wide
 * interval's lines are never all held as strings, nor joined into one (a million anomalies'
 * lines pass 300 MB, and V8 caps a string at 2^29 characters).
 */
export function jsonLinesParts<T>(items: readonly T[], line: (item: T) => unknown): Uint8Array[] {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let batch = "";
  for (const item of items) {
    batch += `${JSON.stringify(line(item))}\n`;
    if (batch.length < PART_CHARS) continue;
    parts.push(encoder.encode(batch));
    batch = "";
  }
  if (batch) parts.push(encoder.encode(batch));
  return parts;
}
