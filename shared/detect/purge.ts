import { metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import type { BlobStore } from "../store/blobs.ts";
import type { RecordStore, Table } from "../store/records.ts";
import { metricSetRoot } from "./results.ts";

/** Tables whose records belong to one metric set, keyed `<detector>/<metric set>/…`. */
const RESULT_TABLES: readonly Table[] = ["groups", "executions", "quality", "feedback", "pushes", "leases"];

export interface Purged {
  readonly records: number;
  readonly objects: number;
}

/**
 * Deletes everything detection wrote for a metric set: its anomaly groups, executions,
 * data quality and feedback records, the ClientTokens of rows pushed to it, its leases (the
 * done marks of its intervals, which a metric set made again would take for its own), and its results folder (model snapshot, anomalies,
 * rejects, the canonical files of pushed and CloudWatch rows). DeleteAnomalyDetector runs
 * it before deleting the configuration, as L4M deletes a detector with all it holds, so a
 * detector made again under the same name starts afresh. Each step can run again: a purge
 * cut short is finished by the next one.
 */
export async function purgeResults(deps: { readonly records: RecordStore; readonly blobs: BlobStore; readonly resultsRoot: string }, metricSet: MetricSet): Promise<Purged> {
  const prefix = `${metricSetKey(metricSet.MetricSetArn)}/`;
  let records = 0;
  for (const table of RESULT_TABLES) records += await deps.records.deletePrefix(table, prefix);
  const objects = await deps.blobs.deleteFolder(`${metricSetRoot(deps.resultsRoot, metricSet)}/`);
  return { records, objects };
}
