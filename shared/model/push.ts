import * as z from "zod";
import { Arn } from "./shapes.ts";

/**
 * Vigil's PutMetricRows: rows pushed over HTTP to a metric set with an HttpPushConfig
 * source, each an object named by the metric set's own columns, as a JSON Lines file holds it.
 */
export const MAX_PUSHED_ROWS = 10_000;

export const PutMetricRowsRequest = z.strictObject({
  MetricSetArn: Arn,
  /** The same token again with the same rows (a client's retry) answers as the first did; with other rows it is refused (ConflictException). Per metric set. */
  ClientToken: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 letters, digits, - or _").optional(),
  Rows: z.array(z.unknown()).min(1).max(MAX_PUSHED_ROWS, `must hold at most ${MAX_PUSHED_ROWS} rows`),
});
export type PutMetricRowsRequest = z.infer<typeof PutMetricRowsRequest>;

