import * as z from "../../model/zod.ts";
import { getGroup, groupRelatedMetrics, groupTimeSeries, listGroupSummaries, type GroupSummaries } from "../../app/index.ts";
import { Arn } from "../../model/shapes.ts";
import { derivedOnce } from "../../model/shared-answers.ts";
import { page, pageAfter } from "../paging.ts";
import { bandLists, GroupId, isoSeconds, op, Paging } from "./operation.ts";

const GroupRef = { AnomalyDetectorArn: Arn, AnomalyGroupId: GroupId };

const summaryWire = ({ groups, next, totalCount, countsByMeasure, evaluationStart }: GroupSummaries) => ({
  AnomalyGroupSummaryList: groups,
  AnomalyGroupStatistics: {
    ...(evaluationStart ? { EvaluationStartDate: evaluationStart } : {}),
    TotalCount: totalCount,
    ItemizedMetricStatsList: Object.entries(countsByMeasure).map(([MetricName, OccurrenceCount]) => ({ MetricName, OccurrenceCount })),
  },
  ...(next ? { NextToken: next } : {}),
});
const summaryWires = new WeakMap<GroupSummaries, ReturnType<typeof summaryWire>>();

export const groupOperations = {
  ListAnomalyGroupSummaries: op(
    z.strictObject({ AnomalyDetectorArn: Arn, SensitivityThreshold: z.int().check(z.minimum(0), z.maximum(100)), ...Paging }),
    (s, req, { scope }) => listGroupSummaries(s, scope, req.AnomalyDetectorArn, req.SensitivityThreshold, { limit: req.MaxResults ?? 100, cursor: req.NextToken }),
    // The same summaries (kept while nothing changed) give the same answer, made once.
    (summaries) => derivedOnce(summaryWires, summaries, summaryWire),
  ),
  GetAnomalyGroup: op(z.strictObject(GroupRef), (s, req, { scope }) => getGroup(s, scope, req.AnomalyDetectorArn, req.AnomalyGroupId), (AnomalyGroup) => ({ AnomalyGroup })),
  ListAnomalyGroupTimeSeries: op(
    z.strictObject({ ...GroupRef, MetricName: z.string().check(z.minLength(1), z.maxLength(256)), ...Paging }),
    async (s, req, { scope }) => {
      let NextToken: string | undefined;
      const found = await groupTimeSeries(s, scope, req, (ids) => {
        // By the last id given: between two pages the record may let go of a series (one more severe takes its place).
        const p = pageAfter(ids, req, `timeseries:${req.AnomalyGroupId}:${req.MetricName}`);
        NextToken = p.NextToken;
        return p.items;
      });
      return { found, NextToken };
    },
    ({ found, NextToken }) => ({
      AnomalyGroupId: found.anomalyGroupId,
      MetricName: found.measure,
      TimestampList: found.starts.map(isoSeconds),
      TimeSeriesList: found.series.map((s) => ({
        TimeSeriesId: s.id,
        DimensionList: Object.entries(s.dimensions).map(([DimensionName, DimensionValue]) => ({ DimensionName, DimensionValue })),
        MetricValueList: s.values,
        // Vigil's, beside L4M's: the band and score detection kept, null where it kept none.
        ...bandLists(s.band),
      })),
      ...(NextToken ? { NextToken } : {}),
    }),
  ),
  ListAnomalyGroupRelatedMetrics: op(
    z.strictObject({ ...GroupRef, RelationshipTypeFilter: z.optional(z.enum(["CAUSE_OF_INPUT_ANOMALY_GROUP", "EFFECT_OF_INPUT_ANOMALY_GROUP"])), ...Paging }),
    (s, req, { scope }) => groupRelatedMetrics(s, scope, req),
    (related, req) => {
      const { items, NextToken } = page(related, req, `related:${req.AnomalyGroupId}:${req.RelationshipTypeFilter ?? ""}`);
      return { InterMetricImpactList: items, ...(NextToken ? { NextToken } : {}) };
    },
  ),
};
