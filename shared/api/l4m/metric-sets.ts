import * as z from "../../model/zod.ts";
import { createMetricSet, describeMetricSet, listMetricSets, updateMetricSet } from "../../app/index.ts";
import { CreateMetricSetRequest, UpdateMetricSetRequest, type MetricSet } from "../../model/metric-set.ts";
import { Arn } from "../../model/shapes.ts";
import { page } from "../paging.ts";
import { op, Paging, seconds } from "./operation.ts";

function metricSetWire(m: MetricSet) {
  const { Tags: _, CreationTime, LastModificationTime, ...rest } = m;
  return { ...rest, CreationTime: seconds(CreationTime), LastModificationTime: seconds(LastModificationTime) };
}

const summaryOf = (m: MetricSet) => ({
  MetricSetArn: m.MetricSetArn,
  AnomalyDetectorArn: m.AnomalyDetectorArn,
  MetricSetName: m.MetricSetName,
  ...(m.MetricSetDescription ? { MetricSetDescription: m.MetricSetDescription } : {}),
  CreationTime: seconds(m.CreationTime),
  LastModificationTime: seconds(m.LastModificationTime),
  ...(m.Tags ? { Tags: m.Tags } : {}),
});

export const metricSetOperations = {
  CreateMetricSet: op(CreateMetricSetRequest, (s, req, { scope }) => createMetricSet(s, scope, req), (m) => ({ MetricSetArn: m.MetricSetArn })),
  DescribeMetricSet: op(z.strictObject({ MetricSetArn: Arn }), (s, req, { scope }) => describeMetricSet(s, scope, req.MetricSetArn), metricSetWire),
  ListMetricSets: op(
    z.strictObject({ AnomalyDetectorArn: z.optional(Arn), ...Paging }),
    (s, req, { scope }) => listMetricSets(s, scope, req.AnomalyDetectorArn),
    (all, req) => {
      const { items, NextToken } = page(all, req, `metricSets:${req.AnomalyDetectorArn ?? ""}`);
      return { MetricSetSummaryList: items.map(summaryOf), ...(NextToken ? { NextToken } : {}) };
    },
  ),
  UpdateMetricSet: op(UpdateMetricSetRequest, (s, req, { scope }) => updateMetricSet(s, scope, req), (m) => ({ MetricSetArn: m.MetricSetArn })),
};
