import { createHash } from "node:crypto";

/** Branded string ids: a MetricSetArn cannot be passed where an AnomalyDetectorArn is expected. */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type AnomalyDetectorArn = Brand<string, "AnomalyDetectorArn">;
export type MetricSetArn = Brand<string, "MetricSetArn">;
export type AlertArn = Brand<string, "AlertArn">;
export type TimeSeriesId = Brand<string, "TimeSeriesId">;
export type AnomalyGroupId = Brand<string, "AnomalyGroupId">;

/** Where ARNs are minted: a partition, region and account, as in AWS. */
export interface ArnScope {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

export const LOCAL_ARN_SCOPE: ArnScope = { partition: "aws", region: "us-east-1", accountId: "000000000000" };

const prefix = (s: ArnScope) => `arn:${s.partition}:lookoutmetrics:${s.region}:${s.accountId}`;

export const anomalyDetectorArn = (scope: ArnScope, name: string) =>
  `${prefix(scope)}:AnomalyDetector:${name}` as AnomalyDetectorArn;

export const metricSetArn = (scope: ArnScope, detectorName: string, name: string) =>
  `${prefix(scope)}:MetricSet/${detectorName}/${name}` as MetricSetArn;

export const alertArn = (scope: ArnScope, name: string) => `${prefix(scope)}:Alert:${name}` as AlertArn;

/** The account an ARN names (its fifth field): whose resource it is. */
export function arnAccount(arn: string): string {
  // Its fifth field, found without splitting: read for every message sent.
  let start = 0;
  for (let i = 0; i < 4; i++) {
    const colon = arn.indexOf(":", start);
    if (colon < 0) return "";
    start = colon + 1;
  }
  const end = arn.indexOf(":", start);
  return end < 0 ? arn.slice(start) : arn.slice(start, end);
}

/** The resource name after the last `:` or `/` of an ARN. */
export const arnResourceName = (arn: string) => arn.slice(Math.max(arn.lastIndexOf(":"), arn.lastIndexOf("/")) + 1);

/**
 * `<account>/<detector>/<metric set>`: the id records of one metric set are filed under,
 * and the folder of its results. The account keeps one tenant's names apart from another's.
 */
export const metricSetKey = (arn: string) => `${arnAccount(arn)}/${arn.split(":MetricSet/")[1] ?? arn}`;

/** `<account>/<name>`: the id a detector or an alert is filed under. */
export const resourceKey = (arn: string) => `${arnAccount(arn)}/${arnResourceName(arn)}`;

/**
 * A series' id is a SHA-512 hex digest, as in L4M's alerts, over the metric set, the
 * measure and the dimension values in the metric set's dimension order: stable across
 * runs, processes and row order. Where a value holds NUL (the separator of that text) or a
 * lone surrogate (which UTF-8 writes as U+FFFD), the digest is of the parts in JSON after a
 * NUL, which no metric set's ARN begins with: one series could otherwise name itself as
 * another (`a\0device=b` with `c`, and `a` with `b\0device=c`; `de\ud800` and `de\ufffd`).
 */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A part the plain digest cannot tell apart from another: it holds NUL, or a lone surrogate. */
const notPlain = (part: string) => part.includes("\0") || LONE_SURROGATE.test(part);

export function timeSeriesId(
  metricSet: MetricSetArn,
  measure: string,
  dimensions: readonly (readonly [name: string, value: string])[],
): TimeSeriesId {
  const h = createHash("sha512");
  if (dimensions.some(([name, value]) => notPlain(name) || notPlain(value))) return h.update("\0").update(JSON.stringify([metricSet, measure, dimensions])).digest("hex") as TimeSeriesId;
  h.update(metricSet).update("\0").update(measure);
  for (const [name, value] of dimensions) h.update("\0").update(name).update("=").update(value);
  return h.digest("hex") as TimeSeriesId;
}

/** A UUID-shaped id (L4M's AnomalyGroupId pattern) derived from a key, so re-runs mint the same id. */
export function stableUuid(key: string): string {
  const hex = createHash("sha256").update(key).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
