import type { Catalog } from "../catalog/catalog.ts";
import { intervalMs } from "../model/frequency.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { detectInterval, loadModel, type DetectDeps, type IntervalOutcome } from "./detect-interval.ts";

/** At most this many intervals are caught up in one run (over 10 weeks at PT1H); the next run goes on. */
export const MAX_CATCH_UP = 2000;

/** Start of the newest interval that has closed by `now`, allowing for the metric set's Offset (seconds). */
export function lastClosedInterval(metricSet: Pick<MetricSet, "MetricSetFrequency" | "Offset">, now: number): number {
  const len = intervalMs(metricSet.MetricSetFrequency);
  return Math.floor((now - (metricSet.Offset ?? 0) * 1000) / len) * len - len;
}

export interface DueRun {
  readonly metricSet: MetricSet;
  readonly intervalStart: number;
  readonly outcome: IntervalOutcome;
}

/**
 * Processes every due interval of every active detector, oldest first: an outage is
 * caught up interval by interval, nothing is skipped. A detector's first run starts at
 * the newest closed interval, after learning its history.
 */
export async function detectDue(deps: DetectDeps, catalog: Catalog, now: number, onInterval?: (run: DueRun) => void): Promise<DueRun[]> {
  const runs: DueRun[] = [];
  for (const detector of await catalog.listDetectors()) {
    if (detector.Status !== "ACTIVE") continue;
    for (const metricSet of await catalog.listMetricSets(detector.AnomalyDetectorArn)) {
      const len = intervalMs(metricSet.MetricSetFrequency);
      const last = lastClosedInterval(metricSet, now);
      const model = await loadModel(deps, metricSet, last);
      const from = Number.isNaN(model.through) ? last : Math.max(model.through + len, last - (MAX_CATCH_UP - 1) * len);
      for (let t = from; t <= last; t += len) {
        // Oldest first; when another invocation is on this metric set, leave the rest to it.
        const run = { metricSet, intervalStart: t, outcome: await detectInterval(deps, metricSet, t, now, model) };
        runs.push(run);
        onInterval?.(run);
        if (run.outcome.kind === "in-progress" || run.outcome.kind === "processed-elsewhere") break;
      }
    }
  }
  return runs;
}
