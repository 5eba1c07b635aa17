import * as z from "../../model/zod.ts";
import { activateDetector, createDetector, deactivateDetector, deleteDetector, describeDetector, listDetectors, updateDetector } from "../../app/index.ts";
import { CreateAnomalyDetectorRequest, UpdateAnomalyDetectorRequest, type AnomalyDetector } from "../../model/detector.ts";
import { page } from "../paging.ts";
import { DetectorRef, nothing, op, Paging, seconds } from "./operation.ts";

const detectorWire = (d: AnomalyDetector) => ({
  AnomalyDetectorArn: d.AnomalyDetectorArn,
  AnomalyDetectorName: d.AnomalyDetectorName,
  ...(d.AnomalyDetectorDescription ? { AnomalyDetectorDescription: d.AnomalyDetectorDescription } : {}),
  AnomalyDetectorConfig: { AnomalyDetectorFrequency: d.AnomalyDetectorConfig.AnomalyDetectorFrequency },
  CreationTime: seconds(d.CreationTime),
  LastModificationTime: seconds(d.LastModificationTime),
  Status: d.Status,
  ...(d.KmsKeyArn ? { KmsKeyArn: d.KmsKeyArn } : {}),
  ...(d.FailureType ? { FailureType: d.FailureType } : {}),
  ...(d.FailureReason ? { FailureReason: d.FailureReason } : {}),
});

export const detectorOperations = {
  CreateAnomalyDetector: op(CreateAnomalyDetectorRequest, (s, req, { scope }) => createDetector(s, scope, req), (d) => ({ AnomalyDetectorArn: d.AnomalyDetectorArn })),
  DescribeAnomalyDetector: op(DetectorRef, (s, req, { scope }) => describeDetector(s, scope, req.AnomalyDetectorArn), detectorWire),
  ListAnomalyDetectors: op(
    z.strictObject(Paging),
    (s, _, { scope }) => listDetectors(s, scope),
    (all, req) => {
      const { items, NextToken } = page(all, req, "detectors");
      return { AnomalyDetectorSummaryList: items.map((d) => ({ ...detectorWire(d), ...(d.Tags ? { Tags: d.Tags } : {}) })), ...(NextToken ? { NextToken } : {}) };
    },
  ),
  UpdateAnomalyDetector: op(UpdateAnomalyDetectorRequest, (s, req, { scope }) => updateDetector(s, scope, req), (d) => ({ AnomalyDetectorArn: d.AnomalyDetectorArn })),
  DeleteAnomalyDetector: op(DetectorRef, (s, req, { scope }) => deleteDetector(s, scope, req.AnomalyDetectorArn), nothing),
  ActivateAnomalyDetector: op(DetectorRef, (s, req, { scope }) => activateDetector(s, scope, req.AnomalyDetectorArn), nothing),
  DeactivateAnomalyDetector: op(DetectorRef, (s, req, { scope }) => deactivateDetector(s, scope, req.AnomalyDetectorArn), nothing),
};
