import * as z from "./zod.ts";
import { Arn } from "./shapes.ts";

/**
 * Vigil's PutMetricRows: rows pushed over HTTP to a metric set with an HttpPushConfig
 * source, each an object named by the metric set's own columns, as a JSON Lines file holds it.
 */
export const MAX_PUSHED_ROWS = 10_000;

const scalar = (v: unknown) => v === null || typeof v !== "object";

/**
 * A row holds values, not structures: an array or object in it is refused with the request.
 * JSON takes any depth, and a row nested a million deep would overflow the stack of what
 * reads it (its fingerprint, its rejection), a server error instead of the caller's. A row
 * that is no object at all (a number, a flat array) is still taken, and rejected as such.
 */
const shallow = (row: unknown) => scalar(row) || (Array.isArray(row) ? row.every(scalar) : Object.values(row as object).every(scalar));

export const PutMetricRowsRequest = z.strictObject({
  MetricSetArn: Arn,
  /** The same token again with the same rows (a client's retry) answers as the first did; with other rows it is refused (ConflictException). Per metric set. */
  ClientToken: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 letters, digits, - or _"))),
  Rows: z.array(z.unknown().check(z.refine(shallow, "must be an object of column → value, each value a string, number, boolean or null (no array or object in it)"))).check(z.minLength(1), z.maxLength(MAX_PUSHED_ROWS, `must hold at most ${MAX_PUSHED_ROWS} rows`)),
});
export type PutMetricRowsRequest = z.infer<typeof PutMetricRowsRequest>;

