import * as z from "../../model/zod.ts";
import { createAlert, deleteAlert, describeAlert, listAlerts, updateAlert } from "../../app/index.ts";
import { CreateAlertRequest, redactAlert, UpdateAlertRequest, type Alert } from "../../model/alert.ts";
import { Arn } from "../../model/shapes.ts";
import { page } from "../paging.ts";
import { nothing, op, Paging, seconds } from "./operation.ts";

/** Secrets never leave: an alert is answered with its secrets redacted. */
function alertWire(a: Alert) {
  const { Tags: _, CreationTime, LastModificationTime, ...rest } = redactAlert(a);
  return { ...rest, CreationTime: seconds(CreationTime), LastModificationTime: seconds(LastModificationTime) };
}

const summaryOf = (a: Alert) => ({
  AlertArn: a.AlertArn,
  AnomalyDetectorArn: a.AnomalyDetectorArn,
  AlertName: a.AlertName,
  AlertSensitivityThreshold: a.AlertSensitivityThreshold,
  AlertType: a.AlertType,
  AlertStatus: a.AlertStatus,
  LastModificationTime: seconds(a.LastModificationTime),
  CreationTime: seconds(a.CreationTime),
  ...(a.Tags ? { Tags: a.Tags } : {}),
});

const AlertRef = z.strictObject({ AlertArn: Arn });

export const alertOperations = {
  CreateAlert: op(CreateAlertRequest, (s, req, { scope }) => createAlert(s, scope, req), (a) => ({ AlertArn: a.AlertArn })),
  DescribeAlert: op(AlertRef, (s, req, { scope }) => describeAlert(s, scope, req.AlertArn), (a) => ({ Alert: alertWire(a) })),
  ListAlerts: op(
    z.strictObject({ AnomalyDetectorArn: z.optional(Arn), ...Paging }),
    (s, req, { scope }) => listAlerts(s, scope, req.AnomalyDetectorArn),
    (all, req) => {
      const { items, NextToken } = page(all, req, `alerts:${req.AnomalyDetectorArn ?? ""}`);
      return { AlertSummaryList: items.map(summaryOf), ...(NextToken ? { NextToken } : {}) };
    },
  ),
  UpdateAlert: op(UpdateAlertRequest, (s, req, { scope }) => updateAlert(s, scope, req), (a) => ({ AlertArn: a.AlertArn })),
  DeleteAlert: op(AlertRef, (s, req, { scope }) => deleteAlert(s, scope, req.AlertArn), nothing),
};
