import * as z from "../../model/zod.ts";
import { getFeedback, putFeedback } from "../../app/index.ts";
import { Arn } from "../../model/shapes.ts";
import { page } from "../paging.ts";
import { GroupId, isoSeconds, nothing, op, Paging, TimeSeriesId } from "./operation.ts";

export const feedbackOperations = {
  PutFeedback: op(
    z.strictObject({ AnomalyDetectorArn: Arn, AnomalyGroupTimeSeriesFeedback: z.strictObject({ AnomalyGroupId: GroupId, TimeSeriesId, IsAnomaly: z.boolean() }) }),
    (s, req, { scope }) => putFeedback(s, scope, { AnomalyDetectorArn: req.AnomalyDetectorArn, ...req.AnomalyGroupTimeSeriesFeedback }),
    nothing,
  ),
  GetFeedback: op(
    z.strictObject({ AnomalyDetectorArn: Arn, AnomalyGroupTimeSeriesFeedback: z.strictObject({ AnomalyGroupId: GroupId, TimeSeriesId: z.optional(TimeSeriesId) }), ...Paging }),
    (s, req, { scope }) => getFeedback(s, scope, { AnomalyDetectorArn: req.AnomalyDetectorArn, ...req.AnomalyGroupTimeSeriesFeedback }),
    (all, req) => {
      const q = req.AnomalyGroupTimeSeriesFeedback;
      const { items, NextToken } = page(all, req, `feedback:${q.AnomalyGroupId}:${q.TimeSeriesId ?? ""}`);
      return {
        AnomalyGroupTimeSeriesFeedback: items.map((f) => ({
          TimeSeriesId: f.TimeSeriesId,
          IsAnomaly: f.IsAnomaly,
          // Vigil's, beside L4M's: the deviation judged (in residual scales, signed) and the tolerance it sets.
          Deviation: Math.round(f.z * 100) / 100,
          GivenTime: isoSeconds(f.givenAt),
          ...(f.tolerance ? { Tolerance: { Side: f.tolerance.side, Before: f.tolerance.before, After: f.tolerance.after } } : {}),
        })),
        ...(NextToken ? { NextToken } : {}),
      };
    },
  ),
};
