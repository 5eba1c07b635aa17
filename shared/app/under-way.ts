import { randomUUID } from "node:crypto";
import type { AnomalyDetector } from "../model/detector.ts";
import { ConflictException } from "../model/errors.ts";
import { metricSetKey, resourceKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import type { RecordStore } from "../store/records.ts";

/**
 * Detection under way on a metric set, as DeleteAnomalyDetector sees it.
 *
 * The deletion marks its detector DELETING, then purges each metric set's results. Detection
 * that read the detector before the mark would write after the purge, and what it wrote would
 * outlive the detector (and be found by one made again under the same name). So each side
 * writes first and reads second:
 * - detection records that it is on a metric set (a visit, `<metric set>/visit/<id>` in the
 *   leases table, for as long as a run's lease term), or takes an interval's lease, then reads
 *   whether the metric set still stands (`standsStill`), and writes nothing when it does not;
 * - the deletion marks the detector, then reads the visits and live leases (`refuseUnderWay`),
 *   and refuses while there are any.
 * One of the two reads sees the other's write: the stores' reads are consistent.
 */

/**
 * Leases bound how long real work may take: they are claimed and checked on the real clock
 * (`linkClock`: the clock itself, but in a simulation, whose hours may pass in milliseconds),
 * or at the time an invocation was given when that is later, as records are.
 */
export const leaseTime = (deps: { readonly linkClock: () => number }, now: number) => Math.max(now, deps.linkClock());

/** How long a visit counts without being ended: a run's lease term (detect.ts, LEASE_MS). */
export const VISIT_MS = 15 * 60_000;

/** A done mark's term (detect.ts): a lease that says its interval was committed. */
const DONE = Number.MAX_SAFE_INTEGER;

interface Visit {
  readonly until: number;
  readonly visit: true;
}

/** Whether the metric set, as read before, is still there (not made again since) and its detector not being deleted. */
export async function standsStill(records: RecordStore, metricSet: Pick<MetricSet, "MetricSetArn" | "AnomalyDetectorArn" | "CreationTime">): Promise<boolean> {
  const [current, detector] = await Promise.all([records.get<MetricSet>("metricSets", metricSetKey(metricSet.MetricSetArn)), records.get<AnomalyDetector>("detectors", resourceKey(metricSet.AnomalyDetectorArn))]);
  return current?.CreationTime === metricSet.CreationTime && detector !== undefined && detector.Status !== "DELETING";
}

/**
 * Runs `work` on the metric set while it stands, with its visit recorded (at `now`, by the
 * leases' clock): undefined, and `work` not run, when it no longer stands.
 */
export async function visiting<T>(records: RecordStore, metricSet: MetricSet, now: number, work: () => Promise<T>): Promise<T | undefined> {
  const id = `${visitsOf(metricSet)}${randomUUID()}`;
  const until = now + VISIT_MS;
  await records.put("leases", id, { until, visit: true } satisfies Visit, { expiresAt: until });
  try {
    return (await standsStill(records, metricSet)) ? await work() : undefined;
  } finally {
    await records.delete("leases", id);
  }
}

/** Ends every visit of the metric set (those a stopped process left): answers how many. */
export const endVisits = (records: RecordStore, metricSet: Pick<MetricSet, "MetricSetArn">): Promise<number> => records.deletePrefix("leases", visitsOf(metricSet));

const visitsOf = (metricSet: Pick<MetricSet, "MetricSetArn">) => `${metricSetKey(metricSet.MetricSetArn)}/visit/`;

/**
 * Throws ConflictException when detection is under way on the metric set at `now` (by the
 * leases' clock): a visit, or an interval's or history's lease whose term has not run out.
 * Rows being pushed are not waited for: a request takes back what the purge missed (push.ts).
 */
export async function refuseUnderWay(records: RecordStore, metricSet: Pick<MetricSet, "MetricSetArn" | "MetricSetName">, now: number): Promise<void> {
  const prefix = `${metricSetKey(metricSet.MetricSetArn)}/`;
  let cursor: string | undefined;
  do {
    const page = await records.listPage<Record<string, unknown>>("leases", { prefix, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    const live = page.items.find((r) => typeof r.until === "number" && r.until !== DONE && r.until > now && !("start" in r));
    if (live) {
      throw new ConflictException(`Detection of metric set ${metricSet.MetricSetName} is under way (until ${new Date(live.until as number).toISOString()} at the latest): DeleteAnomalyDetector again once it has stopped`, metricSet.MetricSetArn, "MetricSet");
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
}
