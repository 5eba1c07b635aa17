import * as z from "../../model/zod.ts";
import type { Scope, Services } from "../../app/index.ts";
import { Arn } from "../../model/shapes.ts";
import { parseOrThrow } from "../../model/validate.ts";

/** What an operation knows of its call beyond the body: who calls, and the request's id. */
export interface Call {
  readonly scope: Scope;
  readonly requestId: string;
}

/** One operation on the wire: its request checked, a use case run, the answer in L4M's shape. */
export interface Operation {
  handle(services: Services, body: unknown, call: Call, name: string): Promise<unknown>;
}

/** A table row: the request schema, the use case, and how its result is put on the wire. */
export function op<S extends z.ZodMiniType, O>(input: S, run: (services: Services, request: z.output<S>, call: Call) => Promise<O>, toWire: (out: O, request: z.output<S>) => unknown = (out) => out): Operation {
  return {
    async handle(services, body, call, name) {
      const request = parseOrThrow(input, body, `${name} request`);
      return toWire(await run(services, request, call), request);
    },
  };
}

/** L4M's list paging fields. */
export const Paging = { MaxResults: z.optional(z.int().check(z.minimum(1), z.maximum(100))), NextToken: z.optional(z.string().check(z.minLength(1), z.maxLength(3000))) };
export const GroupId = z.string().check(z.maxLength(63), z.regex(/^[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}$/, "is not an anomaly group id"));
export const DetectorRef = z.strictObject({ AnomalyDetectorArn: Arn });
export const TimeSeriesId = z.string().check(z.minLength(1), z.maxLength(520));

/** rest-json timestamps are epoch seconds. */
export const seconds = (iso: string) => Date.parse(iso) / 1000;

/** An ISO time without milliseconds, as L4M writes its string timestamps. */
export const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** `{}` for an operation that answers nothing. */
export const nothing = () => ({});

/** A float32 kept by detection, to the digits it holds. */
const kept = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : Number(x.toPrecision(7)));

/**
 * Vigil's band lists beside a MetricValueList: expected value, lower and upper bound, null
 * where detection kept nothing; the anomaly score where the value was an anomaly; and what
 * detection did with each interval: ANOMALY, BELOW_FLOOR (scored, not an anomaly), LEARNED
 * (learned from history), or null.
 */
export function bandLists(points: readonly ({ expected: number; lower: number; upper: number; score: number; kind: string } | undefined)[]) {
  return {
    ExpectedValueList: points.map((p) => kept(p?.expected)),
    LowerBoundList: points.map((p) => kept(p?.lower)),
    UpperBoundList: points.map((p) => kept(p?.upper)),
    AnomalyScoreList: points.map((p) => kept(p?.score)),
    ScoreKindList: points.map((p) => p?.kind ?? null),
  };
}
