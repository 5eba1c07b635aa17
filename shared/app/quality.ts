import { DETECTING } from "../model/detector.ts";
import { ResourceNotFoundException } from "../model/errors.ts";
import { intervalMs } from "../model/frequency.ts";
import { metricSetKey } from "../model/ids.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { backTestWindowKey, type BackTestWindow } from "./backtest.ts";
import { executionKey, lastClosedInterval, MAX_CATCH_UP, type IntervalExecution, type QualityRecord } from "./detect.ts";
import { catalogOf, type Scope } from "./scope.ts";
import type { Services } from "./services.ts";

/** What detection recorded of each interval it ran: its executions and their data quality. */

/** L4M's ExecutionStatus: what detection recorded, and the due intervals it has not finished yet. */
export type ExecutionStatus = Pick<IntervalExecution, "Timestamp" | "FailureReason"> & { readonly Status: IntervalExecution["Status"] | "PENDING" | "IN_PROGRESS" };

/**
 * The detector's interval runs, newest first; one interval's alone when `at` (epoch ms) is
 * given. A detecting detector's due intervals after the last one run are there too: the
 * one whose lease is held IN_PROGRESS, the others PENDING.
 */
export async function executions(services: Services, scope: Scope, detectorArn: string, at?: number): Promise<ExecutionStatus[]> {
  const catalog = catalogOf(services, scope);
  const detector = await catalog.getDetector(detectorArn);
  const sets = await catalog.listMetricSets(detectorArn);
  const runs: ExecutionStatus[] = (await Promise.all(sets.map((m) => services.records.list<IntervalExecution>("executions", `${metricSetKey(m.MetricSetArn)}/`)))).flat();
  if (DETECTING.has(detector.Status)) for (const m of sets) runs.push(...(await notYetRun(services, m, runs)));
  const wanted = at === undefined ? runs : runs.filter((e) => Date.parse(e.Timestamp) === at);
  return wanted.sort((a, b) => Date.parse(b.Timestamp) - Date.parse(a.Timestamp));
}

async function notYetRun(services: Services, metricSet: MetricSet, runs: readonly ExecutionStatus[]): Promise<ExecutionStatus[]> {
  const len = intervalMs(metricSet.MetricSetFrequency);
  const done = runs.filter((e) => e.Status === "COMPLETED" || e.Status === "FAILED").map((e) => Date.parse(e.Timestamp));
  if (!done.length) return [];
  const last = lastClosedInterval(metricSet, services.clock());
  const out: ExecutionStatus[] = [];
  for (let t = Math.max(Math.max(...done) + len, last - (MAX_CATCH_UP - 1) * len); t <= last; t += len) {
    const lease = await services.records.get<{ until: number }>("leases", executionKey(metricSet, t));
    out.push({ Timestamp: new Date(t).toISOString(), Status: lease && lease.until > services.clock() && out.length === 0 ? "IN_PROGRESS" : "PENDING" });
  }
  return out;
}

/** The data quality of each interval of the detector's metric sets (one of them when named), and the spans of its last back-test. */
export async function dataQuality(services: Services, scope: Scope, detectorArn: string, metricSetArn?: string): Promise<{ metricSet: MetricSet; intervals: QualityRecord[]; backTest?: BackTestWindow }[]> {
  const catalog = catalogOf(services, scope);
  await catalog.getDetector(detectorArn);
  const sets = (await catalog.listMetricSets(detectorArn)).filter((m) => !metricSetArn || m.MetricSetArn === metricSetArn);
  if (metricSetArn && sets.length === 0) throw new ResourceNotFoundException(`No metric set ${metricSetArn} in ${detectorArn}`, metricSetArn, "MetricSet");
  return Promise.all(
    sets.map(async (metricSet) => {
      const all = await services.records.list<QualityRecord | BackTestWindow>("quality", `${metricSetKey(metricSet.MetricSetArn)}/`);
      const backTest = await services.records.get<BackTestWindow>("quality", backTestWindowKey(metricSet));
      return { metricSet, intervals: all.filter((q): q is QualityRecord => "intervalStart" in q), ...(backTest ? { backTest } : {}) };
    }),
  );
}

