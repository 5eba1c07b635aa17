import { intervalUri, metricSetRoot } from "../detect/results.ts";
import { applyVerdict, bankKey } from "../detect/score-interval.ts";
import { readModel, readShardOf } from "../detect/shard-model.ts";
import { ReadBudget, streamRecords } from "../ingest/readers.ts";
import { seriesKeyOf } from "../ingest/series-key.ts";
import { keptFewer } from "../incidents/contribution.ts";
import { deviationOf, seriesPeakOf } from "../incidents/grouping.ts";
import type { Anomaly, AnomalyGroupRecord } from "../model/anomaly.ts";
import { ResourceNotFoundException, ServiceQuotaExceededException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { metricSetKey } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import { joinUri } from "../model/location.ts";
import { own } from "../model/shapes.ts";
import type { RecordStore } from "../store/records.ts";
import { groupByLink, groupOf, groupWindow, REREAD_BYTES } from "./groups.ts";
import type { Scope } from "./scope.ts";
import type { Services } from "./services.ts";
import { standsStill } from "./under-way.ts";

/**
 * Feedback, written and learned: a person's verdict on one series of one anomaly group
 * (PutFeedback) is kept with the size of the deviation judged, and detection hands it to
 * the engine at its next interval (the maths is engine/feedback.ts's).
 */
export interface FeedbackRecord {
  readonly AnomalyGroupId: string;
  readonly TimeSeriesId: string;
  readonly IsAnomaly: boolean;
  readonly measure: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** The series' largest deviation in the group, in units of its residual scale then: the size judged. */
  readonly z: number;
  /** Epoch ms. */
  readonly givenAt: number;
  /**
   * The verdict's effect: the series' tolerance on the side of expected it was judged on (a
   * multiplier of its residual scale, 1 by default), before and once detection has learned
   * it (with any verdicts given before it), as the engine will set it at the next interval.
   * Absent when the series has no model yet.
   */
  readonly tolerance?: { readonly side: "ABOVE" | "BELOW"; readonly before: number; readonly after: number };
}

export const feedbackKey = (metricSet: Pick<MetricSet, "MetricSetArn">, groupId: string, seriesId: string) => `${metricSetKey(metricSet.MetricSetArn)}/${groupId}/${seriesId}`;

export interface FeedbackInput {
  readonly AnomalyDetectorArn: string;
  readonly AnomalyGroupId: string;
  readonly TimeSeriesId: string;
  readonly IsAnomaly: boolean;
}

export async function putFeedback(services: Services, scope: Scope, input: FeedbackInput): Promise<FeedbackRecord> {
  const { group, metricSet } = await groupOf(services, scope, input.AnomalyDetectorArn, input.AnomalyGroupId);
  return recordFeedback(services, metricSet, group, input.TimeSeriesId, input.IsAnomaly);
}

/** A verdict given through a signed link to a group of the account it names (the link is the authority); false when the group is gone. */
export async function feedbackByLink(services: Services, accountId: string, groupId: string, seriesId: string, isAnomaly: boolean): Promise<boolean> {
  const found = await groupByLink(services, accountId, groupId);
  if (!found) return false;
  await recordFeedback(services, found.metricSet, found.group, seriesId, isAnomaly);
  return true;
}

/** The verdicts given on a group, all or one series'. */
export async function getFeedback(services: Services, scope: Scope, input: { readonly AnomalyDetectorArn: string; readonly AnomalyGroupId: string; readonly TimeSeriesId?: string | undefined }): Promise<FeedbackRecord[]> {
  const { metricSet } = await groupOf(services, scope, input.AnomalyDetectorArn, input.AnomalyGroupId);
  const all = await services.records.list<FeedbackRecord>("feedback", feedbackKey(metricSet, input.AnomalyGroupId, ""));
  return input.TimeSeriesId ? all.filter((f) => f.TimeSeriesId === input.TimeSeriesId) : all;
}

/**
 * Keeps a verdict on one series of a group (found and checked by the caller), with the size
 * of the deviation judged. The same verdict given again on the same series and group is the
 * one kept, not a new one: learned again, "not an anomaly" would widen the tolerance again
 * from the size judged under the tolerance then (three times, to its cap), and a larger
 * deviation would no longer alarm.
 */
export async function recordFeedback(services: Pick<Services, "records" | "blobs" | "resultsRoot" | "clock">, metricSet: MetricSet, group: AnomalyGroupRecord, seriesId: string, isAnomaly: boolean): Promise<FeedbackRecord> {
  const key = feedbackKey(metricSet, group.AnomalyGroupId, seriesId);
  const kept = await services.records.get<FeedbackRecord>("feedback", key);
  if (kept?.IsAnomaly === isAnomaly) return kept;
  const { measure, dimensions, z } = await judgedSeries(services, metricSet, group, seriesId);
  const record: FeedbackRecord = { AnomalyGroupId: group.AnomalyGroupId, TimeSeriesId: seriesId, IsAnomaly: isAnomaly, measure, dimensions, z, givenAt: services.clock() };
  await services.records.put("feedback", key, record);
  const tolerance = await toleranceEffect(services, metricSet, record);
  const given = tolerance ? { ...record, tolerance } : record;
  if (tolerance) await services.records.put("feedback", key, given);
  // After the last write: a verdict written once DeleteAnomalyDetector purged its metric set is taken back.
  await takenBackUnlessStanding(services, metricSet, key);
  return given;
}

/**
 * Written, then read: a verdict written after DeleteAnomalyDetector purged its metric set
 * (which it had found standing) is taken back and the group answered as gone, so a detector
 * made again under the name never learns it (under-way.ts).
 */
async function takenBackUnlessStanding(services: Pick<Services, "records">, metricSet: MetricSet, key: string): Promise<void> {
  if (await standsStill(services.records, metricSet)) return;
  await services.records.delete("feedback", key);
  throw new ResourceNotFoundException(`No metric set ${metricSet.MetricSetArn}: it was deleted, or its detector is being deleted`, metricSet.MetricSetArn, "MetricSet");
}

/**
 * What the engine will make of the verdict: the shard holding its series is read and the
 * pending verdicts (this one among them) are learned on that copy, as the next interval will
 * learn them, and the series' tolerance read before and after. Nothing is saved: detection
 * learns them itself.
 */
async function toleranceEffect(services: Pick<Services, "records" | "blobs" | "resultsRoot">, metricSet: MetricSet, record: FeedbackRecord): Promise<FeedbackRecord["tolerance"]> {
  const root = metricSetRoot(services.resultsRoot, metricSet);
  const model = await readModel(services.blobs, root);
  if (!model || model.outdated) return undefined;
  const seriesKey = seriesKeyOf(dimensionsOf(metricSet).map((d) => record.dimensions[d] ?? ""));
  const bank = await readShardOf(services.blobs, root, model, seriesKey, intervalMs(metricSet.MetricSetFrequency));
  const key = bankKey(record.measure, seriesKey);
  if (!bank.has(key)) return undefined;
  const slot = bank.slot(key);
  const tolerance = () => (record.z >= 0 ? bank.toleranceUp : bank.toleranceDown)[slot]!;
  const before = tolerance();
  for (const f of await pendingFeedback(services.records, metricSet, model.head.feedbackThrough)) applyVerdict(bank, metricSet, f);
  return { side: record.z >= 0 ? "ABOVE" : "BELOW", before: round3(before), after: round3(tolerance()) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The series judged: its measure, its dimension values and its largest deviation in the group
 * (signed: above or below expected) in units of its scale then, what the person judged.
 * Detection keeps these in the group as the group grows (MeasureImpact.seriesPeak), so
 * nothing is read. A measure that joined its group before peaks were kept, and a series its
 * record did not keep (past its bound: incidents/bounded.ts; an alert names the series that
 * moved most, kept or not), are read from the anomalies detection wrote (anomaliesOf).
 */
async function judgedSeries(services: Pick<Services, "blobs" | "resultsRoot">, metricSet: MetricSet, group: AnomalyGroupRecord, seriesId: string): Promise<{ measure: string; dimensions: Readonly<Record<string, string>>; z: number }> {
  const impact = Object.values(group.impacts).find((i) => own(i.series, seriesId) !== undefined);
  if (impact) return { measure: impact.measure, dimensions: own(impact.series, seriesId)!, z: seriesPeakOf(impact, seriesId) ?? peakOf(await anomaliesOf(services, metricSet, group, seriesId)) };
  const bounded = Object.values(group.impacts).some(keptFewer);
  const found = bounded ? await anomaliesOf(services, metricSet, group, seriesId) : [];
  if (!found[0]) {
    const why = bounded ? ": its record keeps the most severe series of each measure, and no anomaly of the series is in the intervals it shows" : "";
    throw new ResourceNotFoundException(`Time series ${seriesId} is not in anomaly group ${group.AnomalyGroupId}${why}`, seriesId, "TimeSeries");
  }
  return { measure: found[0].measure, dimensions: found[0].dimensions, z: peakOf(found) };
}

/** An anomaly as detection writes it (anomalies.jsonl), the parts read back. */
type WrittenAnomaly = Pick<Anomaly, "timeSeriesId" | "measure" | "dimensions" | "actual" | "expected" | "lower" | "upper"> & { readonly anomalyGroupId?: string };

/**
 * The series' anomalies in the group, as detection wrote them, over the group's intervals
 * its time series shows (groupWindow: the newest GROUP_WINDOW_INTERVALS at most, what the
 * person saw), streamed, REREAD_BYTES of them at most in all: a wide outage's file is tens
 * of MB an interval. Past that the verdict is refused: a deviation read from part of the
 * group could be on the wrong side of the series' largest.
 */
async function anomaliesOf(services: Pick<Services, "blobs" | "resultsRoot">, metricSet: MetricSet, group: AnomalyGroupRecord, seriesId: string): Promise<WrittenAnomaly[]> {
  const root = metricSetRoot(services.resultsRoot, metricSet);
  const budget = new ReadBudget(REREAD_BYTES);
  const out: WrittenAnomaly[] = [];
  for (const t of groupWindow(group, intervalMs(metricSet.MetricSetFrequency))) {
    if (t < group.startMs) continue;
    const file = joinUri(intervalUri(root, t), "anomalies.jsonl");
    const chunks = await services.blobs.read(file);
    if (!chunks) continue;
    for await (const items of streamRecords(file, chunks, JSON_LINES, budget)) {
      for (const item of items) {
        const a = "row" in item ? (item.row.fields as unknown as WrittenAnomaly) : undefined;
        if (a?.timeSeriesId === seriesId && (a.anomalyGroupId ?? group.AnomalyGroupId) === group.AnomalyGroupId) out.push(a);
      }
    }
    if (budget.exceeded) {
      const message = `The anomalies of group ${group.AnomalyGroupId}'s intervals pass ${REREAD_BYTES / 1024 / 1024} MiB, what one verdict reads: the largest deviation of series ${seriesId}, which its record does not keep, cannot be judged`;
      throw new ServiceQuotaExceededException(message, seriesId, "TimeSeries", FEEDBACK_READ_QUOTA);
    }
  }
  return out;
}

/** The quota code of a verdict whose series' anomalies cannot be read within REREAD_BYTES. */
export const FEEDBACK_READ_QUOTA = "AnomalyBytesPerFeedback";

const JSON_LINES = { JsonFormatDescriptor: {} };

/** The largest deviation of anomalies, signed; 0 of none. */
const peakOf = (found: readonly WrittenAnomaly[]) =>
  found.reduce((peak, a) => {
    const z = deviationOf(a);
    return Math.abs(z) > Math.abs(peak) ? z : peak;
  }, 0);

/**
 * The feedback given since the model last learned (after `since`, its watermark) and up to
 * `until`, oldest first: detection hands each verdict to the shard holding its series, so it
 * changes how the series is scored from the next interval on. The watermark lives in the
 * model's head, so it commits with the interval: a re-run learns the same. A later verdict
 * on the same series and group replaces the earlier one and is learned again.
 */
export async function pendingFeedback(records: RecordStore, metricSet: Pick<MetricSet, "MetricSetArn">, since: number, until = Infinity): Promise<FeedbackRecord[]> {
  return (await records.list<FeedbackRecord>("feedback", `${metricSetKey(metricSet.MetricSetArn)}/`)).filter((f) => f.givenAt > since && f.givenAt <= until).sort((a, b) => a.givenAt - b.givenAt);
}

/**
 * A verdict is stamped before it is written, and may land that much later (a slow or
 * retried write, another process's clock): detection learns verdicts stamped this long
 * before its run, so that one landing after a later one's is not left behind the
 * watermark. A verdict given just before a run is learned at the next.
 */
export const FEEDBACK_SETTLE_MS = 5 * 60_000;
