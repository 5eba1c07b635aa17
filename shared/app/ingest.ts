import { Catalog } from "../catalog/catalog.ts";
import { metricSetRoot } from "../detect/results.ts";
import { DETECTING } from "../model/detector.ts";
import { arnAccount } from "../model/ids.ts";
import { canonicalCsv, canonicalTemplate, type CanonicalRow } from "../ingest/canonical.ts";
import { joinUri, renderTemplate } from "../model/path-template.ts";
import { intervalMs } from "../model/frequency.ts";
import { instantOf, lastClosedInterval, templateZone } from "../model/interval-time.ts";
import type { MetricSet, MetricSource } from "../model/metric-set.ts";
import { catalogOf, systemScope } from "./scope.ts";
import { leaseTime, visiting } from "./under-way.ts";
import type { Services } from "./services.ts";

/** A source Vigil pulls (a discriminated port: one kind per L4M source it reads). */
export interface PulledSource {
  readonly kind: "cloudwatch";
  readInterval(metricSet: MetricSet, start: number, periodSeconds: number): Promise<CanonicalRow[]>;
  /** Throws (AccessDeniedException) when this source will not read `source` for `accountId`: said when a metric set is made or changed, not first at its pull. */
  admit?(accountId: string, source: NonNullable<MetricSource["CloudWatchConfig"]>): void;
}

export interface IngestRun {
  readonly metricSet: MetricSet;
  readonly intervalStart: number;
  /** The instant the interval closed (a zone's day at its midnight): lags count from it. */
  readonly closedAt: number;
  readonly rows: number;
  readonly file: string;
}

/**
 * Pulls every closed interval that detection has not reached yet (it waits the metric
 * set's Offset), so data that arrives late at the source is re-read until it is used.
 * Rewriting the same canonical file is harmless: ingest is idempotent. A metric set whose
 * pull fails (its role refused, its source unreachable) holds up no other: every other is
 * pulled, then what failed is thrown (the one error, or all of them together).
 */
export async function ingestDue(services: Services, now: number): Promise<IngestRun[]> {
  const runs: IngestRun[] = [];
  const failures: unknown[] = [];
  for (const detector of await Catalog.allDetectors(services.records)) {
    if (detector.Status !== "ACTIVATING" && !DETECTING.has(detector.Status)) continue;
    const account = arnAccount(detector.AnomalyDetectorArn);
    for (const metricSet of await catalogOf(services, systemScope(services, account)).listMetricSets(detector.AnomalyDetectorArn)) {
      if (!metricSet.MetricSource.CloudWatchConfig) continue;
      try {
        const source = services.sources.cloudwatch;
        if (!source) throw new Error(`metric set ${metricSet.MetricSetName} reads CloudWatch, and no CloudWatch client is configured`);
        const len = intervalMs(metricSet.MetricSetFrequency);
        // Ingest runs as soon as an interval closes; detection waits the Offset.
        const lastClosed = lastClosedInterval({ ...metricSet, Offset: 0 }, now);
        const pending = Math.ceil(((metricSet.Offset ?? 0) * 1000) / len);
        // Pulled while it stands, its visit recorded: a deletion waits for it (under-way.ts).
        await visiting(services.records, metricSet, leaseTime(services, now), async () => {
          for (let t = lastClosed - pending * len; t <= lastClosed; t += len) {
            const run = await ingestInterval(services, source, metricSet, t);
            services.observer.ingestRun(run, now);
            runs.push(run);
          }
        });
      } catch (e) {
        failures.push(e);
      }
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} metric sets could not be pulled: ${failures.map((e) => (e instanceof Error ? e.message : String(e))).join("; ")}`);
  return runs;
}

async function ingestInterval(deps: Pick<Services, "blobs" | "resultsRoot">, source: PulledSource, metricSet: MetricSet, start: number): Promise<IngestRun> {
  // CloudWatch is asked for the instants the interval spans (a day of a zone: from its midnight to the next, 23 to 25 hours).
  const [from, closedAt] = [instantOf(metricSet, start), instantOf(metricSet, start + intervalMs(metricSet.MetricSetFrequency))];
  const rows = await source.readInterval(metricSet, from, (closedAt - from) / 1000);
  const folder = renderTemplate(canonicalTemplate(metricSetRoot(deps.resultsRoot, metricSet)), start, templateZone(metricSet));
  const file = joinUri(folder, `${source.kind}.csv`);
  await deps.blobs.put(file, canonicalCsv(metricSet, rows));
  return { metricSet, intervalStart: start, closedAt, rows: rows.length, file };
}
