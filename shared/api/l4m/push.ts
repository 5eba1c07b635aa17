import { putMetricRows } from "../../app/index.ts";
import { PutMetricRowsRequest } from "../../model/push.ts";
import { op } from "./operation.ts";

/** Vigil's own: rows pushed to a metric set with an HttpPushConfig source. */
export const pushOperations = {
  PutMetricRows: op(PutMetricRowsRequest, (s, req, { scope, requestId }) => putMetricRows(s, scope, req, requestId)),
};
