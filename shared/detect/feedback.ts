import { applyFeedback } from "../engine/feedback.ts";
import { seriesKeyOf } from "../ingest/aggregate.ts";
import { metricSetKey } from "../model/ids.ts";
import { dimensionsOf, type MetricSet } from "../model/metric-set.ts";
import type { RecordStore } from "../store/records.ts";
import { bankKey } from "./score-interval.ts";
import type { ModelSnapshot } from "./snapshot.ts";
import type { SeriesBank } from "../engine/bank.ts";

/** A person's verdict on one series of one group (PutFeedback), kept for the engine. */
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
}

export const feedbackKey = (metricSet: Pick<MetricSet, "MetricSetArn">, groupId: string, seriesId: string) => `${metricSetKey(metricSet.MetricSetArn)}/${groupId}/${seriesId}`;

/** One verdict on one series, applied to the engine's state of that series (if it has one). */
export function applyVerdict(bank: SeriesBank, metricSet: Pick<MetricSet, "DimensionList">, v: Pick<FeedbackRecord, "measure" | "dimensions" | "z" | "IsAnomaly">): void {
  const key = bankKey(v.measure, seriesKeyOf(dimensionsOf(metricSet).map((d) => v.dimensions[d] ?? "")));
  if (bank.has(key)) applyFeedback(bank, bank.slot(key), v.IsAnomaly, v.z);
}

/**
 * Hands the feedback given since the model last learned to the engine, oldest first, so
 * each verdict changes how its series is scored from the next interval on. The watermark
 * lives in the model snapshot, so it commits with the interval: a re-run learns the same.
 * A later verdict on the same series and group replaces the earlier one and is learned again.
 */
export async function learnFeedback(records: RecordStore, metricSet: MetricSet, model: ModelSnapshot): Promise<number> {
  const pending = (await records.list<FeedbackRecord>("feedback", `${metricSetKey(metricSet.MetricSetArn)}/`)).filter((f) => f.givenAt > model.feedbackThrough).sort((a, b) => a.givenAt - b.givenAt);
  for (const f of pending) {
    applyVerdict(model.bank, metricSet, f);
    model.feedbackThrough = Math.max(model.feedbackThrough, f.givenAt);
  }
  return pending.length;
}
