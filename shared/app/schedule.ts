import { Catalog } from "../catalog/catalog.ts";
import { DETECTING } from "../model/detector.ts";
import { intervalMs } from "../model/frequency.ts";
import { instantOf, lastClosedInterval } from "../model/interval-time.ts";
import { arnAccount } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { catalogOf, systemScope } from "./scope.ts";
import type { Services } from "./services.ts";

/** When the interval after the newest closed one becomes due: its end plus the Offset. */
export function nextDueAt(metricSet: Pick<MetricSet, "MetricSetFrequency" | "Offset" | "Timezone">, now: number): number {
  const len = intervalMs(metricSet.MetricSetFrequency);
  return instantOf(metricSet, lastClosedInterval(metricSet, now) + 2 * len) + (metricSet.Offset ?? 0) * 1000;
}

/**
 * When the scheduled work next has something to do (epoch ms): now, for an activation (a
 * back-test asked for is the service's back-test loop's, beside the ticks); else the soonest
 * of each detecting metric set's next due interval and, for a pulled source, the next
 * interval's close (ingest does not wait the Offset).
 * Undefined when nothing is scheduled at all.
 */
export async function nextWakeAt(services: Pick<Services, "records" | "region" | "clock" | "quotas" | "dataRootsOf">, now: number): Promise<number | undefined> {
  let soonest: number | undefined;
  for (const detector of await Catalog.allDetectors(services.records)) {
    if (detector.Status === "ACTIVATING") return now;
    if (!DETECTING.has(detector.Status)) continue;
    for (const metricSet of await catalogOf(services, systemScope(services, arnAccount(detector.AnomalyDetectorArn))).listMetricSets(detector.AnomalyDetectorArn)) {
      const due = Math.min(nextDueAt(metricSet, now), metricSet.MetricSource.CloudWatchConfig ? nextDueAt({ ...metricSet, Offset: 0 }, now) : Infinity);
      soonest = Math.min(soonest ?? Infinity, due);
    }
  }
  return soonest;
}

/** The metric sets of every detector that detects or is activating: those whose files are awaited. */
export async function awaitedMetricSets(services: Pick<Services, "records" | "region" | "clock" | "quotas" | "dataRootsOf">): Promise<MetricSet[]> {
  const out: MetricSet[] = [];
  for (const detector of await Catalog.allDetectors(services.records)) {
    if (detector.Status !== "ACTIVATING" && !DETECTING.has(detector.Status)) continue;
    out.push(...(await catalogOf(services, systemScope(services, arnAccount(detector.AnomalyDetectorArn))).listMetricSets(detector.AnomalyDetectorArn)));
  }
  return out;
}
