import { intervalUri, metricSetRoot } from "../detect/results.ts";
import { readHead, type HeadLimits } from "../ingest/readers.ts";
import type { RejectEntry } from "../ingest/rejects.ts";

export { isNotKept } from "../ingest/rejects.ts";
import { ResourceNotFoundException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { joinUri } from "../model/location.ts";
import { metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { backTestWindowKey, type BackTestWindow } from "./backtest.ts";
import { historyQualityKey, historyRejectsUri, type HistoryQuality, type IntervalExecution, type QualityRecord } from "./detect.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** What detection recorded of each interval it ran: its executions and their data quality. */

/**
 * The detector's interval runs, newest first, as detection recorded them (PENDING while a
 * catch-up waits to reach them, IN_PROGRESS while one runs, then COMPLETED or FAILED);
 * one interval's alone when `at` (epoch ms) is given.
 */
export async function executions(services: Services, scope: Scope, detectorArn: string, at?: number): Promise<IntervalExecution[]> {
  const catalog = catalogOf(services, scope);
  await catalog.getDetector(detectorArn);
  const sets = await catalog.listMetricSets(detectorArn);
  const runs = (await Promise.all(sets.map((m) => services.records.list<IntervalExecution>("executions", `${metricSetKey(m.MetricSetArn)}/`)))).flat();
  const wanted = at === undefined ? runs : runs.filter((e) => Date.parse(e.Timestamp) === at);
  return wanted.sort((a, b) => Date.parse(b.Timestamp) - Date.parse(a.Timestamp));
}

const namesHistory = (metricSet: MetricSet) => (metricSet.MetricSource.S3SourceConfig?.HistoricalDataPathList?.length ?? 0) > 0;

/** The data quality of each interval of the detector's metric sets (one of them when named), of the history it last learned, and the spans of its last back-test. */
export async function dataQuality(services: Services, scope: Scope, detectorArn: string, metricSetArn?: string): Promise<{ metricSet: MetricSet; intervals: QualityRecord[]; history?: HistoryQuality; backTest?: BackTestWindow }[]> {
  const catalog = catalogOf(services, scope);
  await catalog.getDetector(detectorArn);
  const sets = (await catalog.listMetricSets(detectorArn)).filter((m) => !metricSetArn || m.MetricSetArn === metricSetArn);
  if (metricSetArn && sets.length === 0) throw new ResourceNotFoundException(`No metric set ${metricSetArn} in ${detectorArn}`, metricSetArn, "MetricSet");
  return Promise.all(
    sets.map(async (metricSet) => {
      const all = await services.records.list<QualityRecord | BackTestWindow | HistoryQuality>("quality", `${metricSetKey(metricSet.MetricSetArn)}/`);
      const backTest = await services.records.get<BackTestWindow>("quality", backTestWindowKey(metricSet));
      // Only while the metric set names a history: one whose paths were removed since is not its data any more.
      const history = namesHistory(metricSet) ? await services.records.get<HistoryQuality>("quality", historyQualityKey(metricSet)) : undefined;
      return { metricSet, intervals: all.filter((q): q is QualityRecord => "intervalStart" in q), ...(history ? { history } : {}), ...(backTest ? { backTest } : {}) };
    }),
  );
}

/**
 * How much of an interval's rejects file one call reads (GetRejectedRows pages through what
 * it answers): above what detection writes (REJECT_LIMITS: 8 MiB of rows, then their counts),
 * it bounds a file written before those limits, whose lines past it are not answered.
 */
export const REJECTS_READ_LIMITS: HeadLimits = { lines: 100_000, bytes: 16 * 1024 * 1024 };

/**
 * The rows a metric set of the scope's detector kept aside, with their reasons, then the
 * counts of those not kept: one interval's (`Timestamp`, epoch ms), or its history's last
 * learning's (`"history"`).
 */
export async function rejectedRows(services: Services, scope: Scope, input: { readonly AnomalyDetectorArn: string; readonly MetricSetArn: string; readonly Timestamp: number | "history" }, limits: HeadLimits = REJECTS_READ_LIMITS): Promise<RejectEntry[]> {
  const catalog = catalogOf(services, scope);
  await catalog.getDetector(input.AnomalyDetectorArn);
  const metricSet = (await catalog.listMetricSets(input.AnomalyDetectorArn)).find((m) => m.MetricSetArn === input.MetricSetArn);
  if (!metricSet) throw new ResourceNotFoundException(`No metric set ${input.MetricSetArn} in ${input.AnomalyDetectorArn}`, input.MetricSetArn, "MetricSet");
  const root = metricSetRoot(services.resultsRoot, metricSet);
  const len = intervalMs(metricSet.MetricSetFrequency);
  if (input.Timestamp === "history" && !namesHistory(metricSet)) return [];
  const uri = input.Timestamp === "history" ? historyRejectsUri(root) : joinUri(intervalUri(root, Math.floor(input.Timestamp / len) * len), "rejects.jsonl");
  const chunks = await services.blobs.read(uri);
  if (!chunks) return [];
  // The file's complete lines within the limits, read as a sample reads a file's start (a line the bound cuts is not answered).
  const { text } = await readHead(chunks, {}, limits);
  const lines = text.split("\n").filter((l) => l.trim());
  return lines.slice(0, limits.lines).map((l) => JSON.parse(l) as RejectEntry);
}
