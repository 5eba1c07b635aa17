import * as z from "../../model/zod.ts";
import { backTestDetector, backTestReports, dataQuality, executions, isNotKept, rejectedRows, type BackTestWindow, type HistoryQuality, type QualityRecord } from "../../app/index.ts";
import type { MetricSet } from "../../model/metric-set.ts";
import { Arn } from "../../model/shapes.ts";
import { page } from "../paging.ts";
import { DetectorRef, isoSeconds, nothing, op, Paging } from "./operation.ts";


type RowFigures = Pick<QualityRecord, "rowsRead" | "rowsPartial" | "rowsRejected" | "rejectsByReason" | "rejectsNotKept">;
type QualityMetric = { readonly MetricType: string; readonly MetricDescription: string; readonly RelatedColumnName?: string; readonly MetricValue: number };

/**
 * One read's entry (an interval's, or a history's: `of`) from `start` (epoch seconds): L4M's
 * row figures, then the read's own (`more`), and Vigil's rows kept aside beside them.
 */
const readWire = (metricSet: MetricSet, start: number, q: RowFigures, of: string, more: readonly QualityMetric[]) => ({
  StartTimestamp: start,
  MetricSetDataQualityMetricList: [
    {
      MetricSetArn: metricSet.MetricSetArn,
      DataQualityMetricList: [
        { MetricType: "ROWS_PROCESSED", MetricDescription: `Rows${of} read`, MetricValue: q.rowsRead },
        { MetricType: "ROWS_PARTIAL_COMPLIANCE", MetricDescription: `Rows${of} with at least one unusable measure`, MetricValue: q.rowsPartial },
        { MetricType: "INVALID_ROWS_COMPLIANCE", MetricDescription: `Rows${of} that could not be used`, MetricValue: q.rowsRejected },
        ...more,
      ],
      // Vigil's, beside L4M's: the rows kept aside, by reason (GetRejectedRows lists them).
      RejectedRowsByReason: Object.fromEntries(Object.entries(q.rejectsByReason ?? {}).filter(([, n]) => n > 0)),
      // Those counted but not kept with their fields (GetRejectedRows answers their counts per file and reason).
      ...(q.rejectsNotKept ? { RejectedRowsNotKept: q.rejectsNotKept } : {}),
    },
  ],
});

/** L4M's data quality metrics of one interval, from what detection recorded of it. */
const qualityWire = (metricSet: MetricSet, q: QualityRecord) =>
  readWire(metricSet, Date.parse(q.intervalStart) / 1000, q, "", [
    { MetricType: "TIME_SERIES_COUNT", MetricDescription: "Time series seen", MetricValue: q.timeSeriesCount },
    ...Object.entries(q.columnCompleteness).map(([c, v]) => ({ MetricType: "COLUMN_COMPLETENESS", MetricDescription: "Share of rows with a usable value", RelatedColumnName: c, MetricValue: v })),
    ...Object.entries(q.dimensionUniqueness).map(([c, v]) => ({ MetricType: "DIMENSION_UNIQUENESS", MetricDescription: "Distinct values", RelatedColumnName: c, MetricValue: v })),
  ]);

/**
 * Vigil's: what the history the metric set last learned held, with L4M's row figures, and
 * its own figures as metric types of their own (HISTORY_*, as L4M's BACKTEST_* are, so an SDK
 * client reads them): when it was read, its files and intervals, and the rows not learned for
 * their time. GetRejectedRows with `History` lists the rows kept aside. StartTimestamp is the
 * first interval a history reaches.
 */
const historyWire = (metricSet: MetricSet, h: HistoryQuality) =>
  readWire(metricSet, Date.parse(h.reach) / 1000, h, " of the history", [
    { MetricType: "HISTORY_READ_TIME_STAMP", MetricDescription: "When the history was last read to be learned", MetricValue: Math.floor(Date.parse(h.readAt) / 1000) },
    { MetricType: "HISTORY_FILES", MetricDescription: "Files of the history read", MetricValue: h.files },
    { MetricType: "HISTORY_INTERVALS_READ", MetricDescription: "Intervals of the history with rows to learn", MetricValue: h.intervalsRead },
    { MetricType: "HISTORY_ROWS_BEFORE_REACH", MetricDescription: "Rows older than a history reaches, not learned", MetricValue: h.rowsBeforeReach },
    { MetricType: "HISTORY_ROWS_AHEAD", MetricDescription: "Rows of live intervals, learned as they are detected", MetricValue: h.rowsAhead },
  ]);

/** L4M's BACKTEST_* figures: where the last back-test's training and inference data started and ended (epoch seconds). */
const backTestWire = (metricSet: MetricSet, w: BackTestWindow) => ({
  StartTimestamp: w.inferenceStart / 1000,
  MetricSetDataQualityMetricList: [
    {
      MetricSetArn: metricSet.MetricSetArn,
      DataQualityMetricList: [
        { MetricType: "BACKTEST_TRAINING_DATA_START_TIME_STAMP", MetricDescription: "First interval the back-test learned from", MetricValue: w.trainingStart / 1000 },
        { MetricType: "BACKTEST_TRAINING_DATA_END_TIME_STAMP", MetricDescription: "Last interval the back-test learned from", MetricValue: w.trainingEnd / 1000 },
        { MetricType: "BACKTEST_INFERENCE_DATA_START_TIME_STAMP", MetricDescription: "First interval the back-test scored", MetricValue: w.inferenceStart / 1000 },
        { MetricType: "BACKTEST_INFERENCE_DATA_END_TIME_STAMP", MetricDescription: "Last interval the back-test scored", MetricValue: w.inferenceEnd / 1000 },
      ],
    },
  ],
});

export const runOperations = {
  DescribeAnomalyDetectionExecutions: op(
    z.strictObject({ AnomalyDetectorArn: Arn, Timestamp: z.optional(z.iso.datetime({ offset: true })), ...Paging }),
    (s, req, { scope }) => executions(s, scope, req.AnomalyDetectorArn, req.Timestamp === undefined ? undefined : Date.parse(req.Timestamp)),
    (runs, req) => {
      const { items, NextToken } = page(runs, req, `executions:${req.AnomalyDetectorArn}:${req.Timestamp ?? ""}`);
      return { ExecutionList: items.map((e) => ({ Timestamp: isoSeconds(Date.parse(e.Timestamp)), Status: e.Status, ...(e.FailureReason ? { FailureReason: e.FailureReason } : {}) })), ...(NextToken ? { NextToken } : {}) };
    },
  ),
  GetDataQualityMetrics: op(
    z.strictObject({ AnomalyDetectorArn: Arn, MetricSetArn: z.optional(Arn) }),
    (s, req, { scope }) => dataQuality(s, scope, req.AnomalyDetectorArn, req.MetricSetArn),
    (sets) => ({ AnomalyDetectorDataQualityMetricList: sets.flatMap(({ metricSet, intervals, history, backTest }) => [...(backTest ? [backTestWire(metricSet, backTest)] : []), ...(history ? [historyWire(metricSet, history)] : []), ...intervals.map((q) => qualityWire(metricSet, q))]) }),
  ),
  BackTestAnomalyDetector: op(DetectorRef, (s, req, { scope }) => backTestDetector(s, scope, req.AnomalyDetectorArn), nothing),
  /** Vigil's: the rows one interval (`Timestamp`) or the history last learned (`History`) kept aside, with their reasons, to read or download. */
  GetRejectedRows: op(
    z
      .strictObject({ AnomalyDetectorArn: Arn, MetricSetArn: Arn, Timestamp: z.optional(z.iso.datetime({ offset: true })), History: z.optional(z.literal(true)), MaxResults: z.optional(z.int().check(z.minimum(1), z.maximum(1000))), NextToken: Paging.NextToken })
      .check(z.refine((r) => (r.Timestamp === undefined) !== (r.History === undefined), { message: "give one of Timestamp (an interval's rows) and History: true (the history's)", path: ["Timestamp"] })),
    (s, req, { scope }) => rejectedRows(s, scope, { ...req, Timestamp: req.Timestamp === undefined ? "history" : Date.parse(req.Timestamp) }),
    (rows, req) => {
      const { items, NextToken } = page(rows, req, `rejects:${req.MetricSetArn}:${req.Timestamp ?? "history"}`);
      return {
        RejectedRowList: items.map((r) =>
          isNotKept(r)
            ? { File: r.file, Line: r.firstLine, LastLine: r.lastLine, NotKept: r.notKept, Reason: r.reason, Detail: r.detail, Partial: r.partial, Row: "" }
            : { File: r.file, Line: r.line, Reason: r.reason, Detail: r.detail, Partial: r.partial, Row: r.row },
        ),
        ...(NextToken ? { NextToken } : {}),
      };
    },
  ),
  /** Vigil's: what BackTestAnomalyDetector found, per metric set, kept apart from live groups. */
  GetBackTestReport: op(DetectorRef, (s, req, { scope }) => backTestReports(s, scope, req.AnomalyDetectorArn), (reports) => ({
    BackTestReportList: reports.map(({ report, groups }) => ({
      MetricSetArn: report.MetricSetArn,
      StartTime: isoSeconds(report.from),
      EndTime: isoSeconds(report.to),
      IntervalSeconds: report.intervalMs / 1000,
      IntervalsLearned: report.intervalsLearned,
      IntervalsScored: report.intervalsScored,
      PeakList: report.peaks.map(([t, score]) => ({ Timestamp: isoSeconds(t), Score: score })),
      AnomalyGroupList: groups.map((g) => ({ AnomalyGroupId: g.AnomalyGroupId, StartTime: g.StartTime, EndTime: g.EndTime, AnomalyGroupScore: g.AnomalyGroupScore, PrimaryMetricName: g.PrimaryMetricName })),
    })),
  })),
};
