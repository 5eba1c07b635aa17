import * as z from "../../model/zod.ts";
import { listDeliveries, replayParkedDeliveries, type Notice } from "../../app/index.ts";
import { Arn } from "../../model/shapes.ts";
import { page } from "../paging.ts";
import { GroupId, isoSeconds, op, Paging } from "./operation.ts";

/** A replay sends in this call; it stops starting new sends after this long (API Gateway waits 30 s). */
const REPLAY_BUDGET_MS = 25_000;

const deliveryWire = (n: Notice) => ({
  DeliveryId: n.DeliveryId,
  AlertArn: n.AlertArn,
  AlertName: n.AlertName,
  ...(n.Channel ? { Channel: n.Channel, Target: n.Target } : {}),
  AnomalyDetectorArn: n.AnomalyDetectorArn,
  AnomalyGroupId: n.AnomalyGroupId,
  ...(n.Revision !== undefined ? { Revision: n.Revision } : {}),
  Ended: n.Ended,
  NotifyReason: n.NotifyReason,
  Status: n.Status,
  Attempts: n.Attempts ?? 0,
  ...(n.LastError ? { LastError: n.LastError } : {}),
  IntervalStart: isoSeconds(n.IntervalStart),
  Time: isoSeconds(n.UpdatedAt),
});

/** Vigil's: the messages alerting sent for the tenant's alerts, and the parked ones sent again. */
export const deliveryOperations = {
  ListDeliveries: op(
    z.strictObject({ AnomalyDetectorArn: z.optional(Arn), AnomalyGroupId: z.optional(GroupId), AlertArn: z.optional(Arn), Status: z.optional(z.enum(["PENDING", "SENT", "PARKED"])), ...Paging }),
    (s, req, { scope }) => listDeliveries(s, scope, req),
    (all, req) => {
      const { items, NextToken } = page(all, req, `deliveries:${req.AnomalyDetectorArn ?? ""}:${req.AnomalyGroupId ?? ""}:${req.AlertArn ?? ""}:${req.Status ?? ""}`);
      return { DeliveryList: items.map(deliveryWire), ...(NextToken ? { NextToken } : {}) };
    },
  ),
  ReplayDeliveries: op(
    z.strictObject({ DeliveryIds: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(1024))).check(z.minLength(1), z.maxLength(100))) }),
    (s, req, { scope }) => replayParkedDeliveries(s, scope, AbortSignal.timeout(REPLAY_BUDGET_MS), req.DeliveryIds),
    ({ retried, remaining }) => ({ Retried: retried, Remaining: remaining }),
  ),
};
