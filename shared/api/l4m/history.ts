import * as z from "../../model/zod.ts";
import { explainAlerting, seriesHistory, type AlertingExplanation, type SeriesQuery } from "../../app/index.ts";
import { Arn } from "../../model/shapes.ts";
import { bandLists, isoSeconds, op, TimeSeriesId } from "./operation.ts";

const Time = z.iso.datetime({ offset: true });
/** A series by its id (known once it has been in a group), or by its measure and dimension values. */
const Series = {
  TimeSeriesId: z.optional(TimeSeriesId),
  MetricName: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  DimensionList: z.optional(z.array(z.strictObject({ DimensionName: z.string().check(z.minLength(1), z.maxLength(63)), DimensionValue: z.string().check(z.maxLength(1024)) })).check(z.maxLength(10))),
};
const oneSeries = (r: { TimeSeriesId?: string | undefined; MetricName?: string | undefined }) => (r.TimeSeriesId === undefined) !== (r.MetricName === undefined);
const ONE_SERIES = { message: "name the series by TimeSeriesId, or by MetricName and DimensionList", path: ["TimeSeriesId"] };
const queryOf = (r: z.output<z.ZodMiniObject<typeof Series>>): SeriesQuery =>
  r.TimeSeriesId !== undefined ? { TimeSeriesId: r.TimeSeriesId } : { MetricName: r.MetricName!, Dimensions: Object.fromEntries((r.DimensionList ?? []).map((d) => [d.DimensionName, d.DimensionValue])) };
const dimensionList = (d: Readonly<Record<string, string>> | undefined) => Object.entries(d ?? {}).map(([DimensionName, DimensionValue]) => ({ DimensionName, DimensionValue }));
const finite = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : Number(x.toPrecision(7)));

function explanationWire(e: AlertingExplanation) {
  const g = e.group?.anomalyGroup;
  return {
    Timestamp: isoSeconds(e.timestamp),
    TimeSeriesId: e.timeSeriesId,
    MetricSetArn: e.metricSet.MetricSetArn,
    ...(e.measure ? { MetricName: e.measure, DimensionList: dimensionList(e.dimensions) } : {}),
    ActualValue: e.point ? e.point.actual : null,
    ExpectedValue: finite(e.point?.expected),
    LowerBound: finite(e.point?.lower),
    UpperBound: finite(e.point?.upper),
    AnomalyScore: finite(e.point?.score),
    ScoreKind: e.point?.kind ?? null,
    MinAnomalyScore: e.minAnomalyScore,
    ...(g ? { AnomalyGroup: { AnomalyGroupId: g.AnomalyGroupId, StartTime: g.StartTime, EndTime: g.EndTime, AnomalyGroupScore: g.AnomalyGroupScore, PrimaryMetricName: g.PrimaryMetricName, ContainsTimeSeries: e.group!.containsSeries } } : {}),
    Alerts: e.alerts.map((a) => ({
      AlertArn: a.alert.AlertArn,
      AlertName: a.alert.AlertName,
      AlertSensitivityThreshold: a.alert.AlertSensitivityThreshold,
      AlertStatus: a.alert.AlertStatus,
      Reason: a.reason,
      ...(a.notice
        ? {
            EventTime: isoSeconds(a.notice.IntervalStart),
            GroupScore: a.notice.GroupScore,
            Outcome: a.notice.Outcome,
            ...(a.notice.SilenceId ? { SilenceId: a.notice.SilenceId, SilenceReason: a.notice.SilenceReason } : {}),
            ...(a.notice.DeliveryId ? { DeliveryId: a.notice.DeliveryId, DeliveryStatus: a.notice.Status, NotifyReason: a.notice.NotifyReason } : {}),
          }
        : {}),
      ...(a.lastNotifiedAt !== undefined ? { LastNotifiedTime: isoSeconds(a.lastNotifiedAt) } : {}),
    })),
    Silences: e.silences,
    RepeatIntervalSeconds: e.repeatMs / 1000,
  };
}

/** Vigil's: a series' history (value, band, score) over a range, and why an alert did or did not go out for it. */
export const historyOperations = {
  GetTimeSeriesHistory: op(
    z.strictObject({ MetricSetArn: Arn, ...Series, StartTime: Time, EndTime: Time }).check(z.refine(oneSeries, ONE_SERIES)),
    (s, req, { scope }) => seriesHistory(s, scope, { MetricSetArn: req.MetricSetArn, series: queryOf(req), StartTime: Date.parse(req.StartTime), EndTime: Date.parse(req.EndTime) }),
    (h) => ({
      MetricSetArn: h.metricSet.MetricSetArn,
      TimeSeriesId: h.series.id,
      MetricName: h.series.measure,
      DimensionList: dimensionList(h.series.dimensions),
      TimestampList: h.starts.map(isoSeconds),
      MetricValueList: h.points.map((p) => (p ? p.actual : null)),
      ...bandLists(h.points),
    }),
  ),
  ExplainAlerting: op(
    z.strictObject({ AnomalyDetectorArn: Arn, MetricSetArn: z.optional(Arn), ...Series, Timestamp: Time }).check(z.refine(oneSeries, ONE_SERIES)),
    (s, req, { scope }) => explainAlerting(s, scope, { AnomalyDetectorArn: req.AnomalyDetectorArn, MetricSetArn: req.MetricSetArn, series: queryOf(req), Timestamp: Date.parse(req.Timestamp) }),
    explanationWire,
  ),
};
