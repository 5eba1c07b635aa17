/**
 * What an incident's page shows, asked of the operations: the group, its detector, related
 * measures, feedback, the alerts sent, and each measure's series with their charts.
 */
import { call, callAll, mapLimited } from "./api.ts";
import { movement, seriesChart, type SeriesChart } from "./series.ts";
import type { AnomalyGroup, Delivery, Detector, Feedback, RelatedMetric, TimeSeries } from "./wire.ts";

/** Series of a measure listed at most. */
export const MAX_SERIES = 1000;

export interface MeasureSeries {
  readonly measure: string;
  readonly series: readonly { readonly ts: TimeSeries; readonly chart: SeriesChart }[];
  readonly truncated: boolean;
  /** The measure's series in the group: more than listed where its record keeps only the most severe. */
  readonly total: number;
}

export interface IncidentData {
  readonly detector: Detector;
  readonly group: AnomalyGroup;
  readonly related: RelatedMetric[];
  readonly measures: MeasureSeries[];
  readonly feedback: Map<string, Feedback>;
  readonly deliveries: Delivery[];
}

export async function feedbackOf(detectorArn: string, groupId: string, timeSeriesId?: string): Promise<Feedback[]> {
  const query = { AnomalyGroupId: groupId, ...(timeSeriesId ? { TimeSeriesId: timeSeriesId } : {}) };
  return (await callAll("GetFeedback", { AnomalyDetectorArn: detectorArn, AnomalyGroupTimeSeriesFeedback: query, MaxResults: 100 }, (p) => p.AnomalyGroupTimeSeriesFeedback)).items;
}

export async function loadIncident(detectorArn: string, groupId: string): Promise<IncidentData> {
  const ref = { AnomalyDetectorArn: detectorArn, AnomalyGroupId: groupId };
  // All asked at once; only the series wait, for the group's measures.
  const groupAsked = call("GetAnomalyGroup", ref).then((r) => r.AnomalyGroup);
  const seriesOf = async (group: AnomalyGroup) =>
    mapLimited(group.MetricLevelImpactList, 3, async (impact): Promise<MeasureSeries> => {
      let timestamps: string[] = [];
      const listed = await callAll("ListAnomalyGroupTimeSeries", { ...ref, MetricName: impact.MetricName, MaxResults: 100 }, (p) => ((timestamps = p.TimestampList), p.TimeSeriesList), MAX_SERIES);
      const series = listed.items.map((ts) => ({ ts, chart: seriesChart(timestamps, ts, group.StartTime, group.EndTime) }));
      series.sort((a, b) => movement(b.chart) - movement(a.chart));
      return { measure: impact.MetricName, series, truncated: listed.truncated, total: impact.NumTimeSeries };
    });
  const [detector, group, related, feedback, deliveries, measures] = await Promise.all([
    call("DescribeAnomalyDetector", { AnomalyDetectorArn: detectorArn }),
    groupAsked,
    callAll("ListAnomalyGroupRelatedMetrics", { ...ref, MaxResults: 100 }, (p) => p.InterMetricImpactList),
    feedbackOf(detectorArn, groupId),
    callAll("ListDeliveries", { ...ref, MaxResults: 100 }, (p) => p.DeliveryList),
    groupAsked.then(seriesOf),
  ]);
  return { detector, group, related: related.items, measures, feedback: new Map(feedback.map((f) => [f.TimeSeriesId, f])), deliveries: deliveries.items };
}

/** The key an incident's load is preloaded under (preload.ts). */
export const incidentKey = (detectorArn: string, groupId: string) => `incident ${detectorArn} ${groupId}`;
