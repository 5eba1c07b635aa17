import * as z from "../../model/zod.ts";
import { backTestDetector, backTestReports, dataQuality, executions, isNotKept, rejectedRows, type BackTestWindow, type QualityRecord } from "../../app/index.ts";
import type { MetricSet } from "../../model/metric-set.ts";
import { Arn } from "../../model/shapes.ts";
import { page } from "../paging.ts";
import { DetectorRef, isoSeconds, nothing, op, Paging } from "./operation.ts";


/** L4M's data quality metrics of one interval, from what detection recorded of it. */
const qualityWire = (metricSet: MetricSet, q: QualityRecord) => ({
  StartTimestamp: Date.parse(q.intervalStart) / 1000,
  MetricSetDataQualityMetricList: [
    {
      MetricSetArn: metricSet.MetricSetArn,
      DataQualityMetricList: [
        { MetricType: "ROWS_PROCESSED", MetricDescription: "Rows read", MetricValue: q.rowsRead },
        { MetricType: "ROWS_PARTIAL_COMPLIANCE", MetricDescription: "Rows with at least one unusable measure", MetricValue: q.rowsPartial },
        { MetricType: "INVALID_ROWS_COMPLIANCE", MetricDescription: "Rows that could not be used", MetricValue: q.rowsRejected },
        { MetricType: "TIME_SERIES_COUNT", MetricDescription: "Time series seen", MetricValue: q.timeSeriesCount },
        ...Object.entries(q.columnCompleteness).map(([c, v]) => ({ MetricType: "COLUMN_COMPLETENESS", MetricDescription: "Share of rows with a usable value", RelatedColumnName: c, MetricValue: v })),
        ...Object.entries(q.dimensionUniqueness).map(([c, v]) => ({ MetricType: "DIMENSION_UNIQUENESS", MetricDescription: "Distinct values", RelatedColumnName: c, MetricValue: v })),
      ],
      // Vigil's, beside L4M's: the rows kept aside, by reason (GetRejectedRows lists them).
      RejectedRowsByReason: Object.fromEntries(Object.entries(q.rejectsByReason ?? {}).filter(([, n]) => n > 0)),
      // Those counted but not kept with their fields (GetRejectedRows answers their counts per file and reason).
      ...(q.rejectsNotKept ? { RejectedRowsNotKept: q.rejectsNotKept } : {}),
    },
  ],
});

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
    (sets) => ({ AnomalyDetectorDataQualityMetricList: sets.flatMap(({ metricSet, intervals, backTest }) => [...(backTest ? [backTestWire(metricSet, backTest)] : []), ...intervals.map((q) => qualityWire(metricSet, q))]) }),
  ),
  BackTestAnomalyDetector: op(DetectorRef, (s, req, { scope }) => backTestDetector(s, scope, req.AnomalyDetectorArn), nothing),
  /** Vigil's: the rows one interval kept aside, with their reasons, to read or download. */
  GetRejectedRows: op(
    z.strictObject({ AnomalyDetectorArn: Arn, MetricSetArn: Arn, Timestamp: z.iso.datetime({ offset: true }), MaxResults: z.optional(z.int().check(z.minimum(1), z.maximum(1000))), NextToken: Paging.NextToken }),
    (s, req, { scope }) => rejectedRows(s, scope, { ...req, Timestamp: Date.parse(req.Timestamp) }),
    (rows, req) => {
      const { items, NextToken } = page(rows, req, `rejects:${req.MetricSetArn}:${req.Timestamp}`);
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
