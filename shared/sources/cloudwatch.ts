import { GetMetricDataCommand, ListMetricsCommand, type CloudWatchClient, type Metric as CloudWatchMetric, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import type { CanonicalRow } from "../ingest/canonical.ts";
import { ValidationException } from "../model/errors.ts";
import type { MetricSet } from "../model/metric-set.ts";
import { dimensionsOf } from "../model/metric-set.ts";
import type { PulledSource } from "../app/index.ts";

/**
 * L4M's CloudWatch source: every metric of the metric set's measures (by `Namespace` and
 * `MetricName`) whose dimensions are exactly the metric set's, one series per combination
 * of dimension values, read with GetMetricData at the interval's period (SUM → Sum,
 * AVG → Average).
 */

/** GetMetricData takes at most 500 queries a call. */
const QUERIES_PER_CALL = 500;

export type CloudWatchMetricSet = Pick<MetricSet, "MetricList" | "DimensionList">;

/**
 * Metrics one pull lists at most, kept or passed over (those with other dimensions): as many
 * as a listing of a bucket may walk (LISTING_LIMITS, store/blobs.ts). The namespaces are the
 * tenant's to fill. The series kept are not held to the metric set's quota here: ListMetrics
 * names every series of the last two weeks, of which an interval's rows may hold far fewer,
 * and detection holds those to the quota.
 */
const MAX_LISTED = 250_000;

async function listSeries(client: CloudWatchClient, namespace: string, metricName: string, dimensionNames: readonly string[], maxListed: number, count: { listed: number }): Promise<CloudWatchMetric[]> {
  const out: CloudWatchMetric[] = [];
  const wanted = [...dimensionNames].sort();
  let token: string | undefined;
  do {
    const page = await client.send(new ListMetricsCommand({ Namespace: namespace, MetricName: metricName, Dimensions: dimensionNames.map((Name) => ({ Name })), NextToken: token }));
    count.listed += page.Metrics?.length ?? 0;
    if (count.listed > maxListed) throw new ValidationException(`CloudWatch lists more than ${maxListed} metrics for the metric set's measures (reached at ${metricName} in namespace ${namespace}), the most one pull reads: give the metric set every dimension its metrics have, or a narrower namespace`);
    for (const m of page.Metrics ?? []) {
      const names = (m.Dimensions ?? []).map((d) => d.Name ?? "").sort();
      if (names.length === wanted.length && names.every((n, i) => n === wanted[i])) out.push(m);
    }
    token = page.NextToken;
  } while (token);
  return out;
}

/** Rows of the interval [start, start + periodSeconds), one per series and measure that has a datapoint; refused past `maxListed` metrics listed. */
export async function readCloudWatchInterval(client: CloudWatchClient, metricSet: CloudWatchMetricSet, start: number, periodSeconds: number, maxListed = MAX_LISTED): Promise<CanonicalRow[]> {
  const dimensionNames = dimensionsOf(metricSet);
  const queries: { query: MetricDataQuery; measure: string; dimensions: string[] }[] = [];
  const count = { listed: 0 };
  for (const metric of metricSet.MetricList) {
    if (!metric.Namespace) continue;
    for (const series of await listSeries(client, metric.Namespace, metric.MetricName, dimensionNames, maxListed, count)) {
      const byName = new Map((series.Dimensions ?? []).map((d) => [d.Name ?? "", d.Value ?? ""]));
      queries.push({
        measure: metric.MetricName,
        dimensions: dimensionNames.map((n) => byName.get(n) ?? ""),
        query: { Id: `q${queries.length}`, MetricStat: { Metric: series, Period: periodSeconds, Stat: metric.AggregationFunction === "SUM" ? "Sum" : "Average" }, ReturnData: true },
      });
    }
  }
  const rows = new Map<string, CanonicalRow>();
  for (let i = 0; i < queries.length; i += QUERIES_PER_CALL) {
    const batch = queries.slice(i, i + QUERIES_PER_CALL);
    const byId = new Map(batch.map((q) => [q.query.Id!, q]));
    let token: string | undefined;
    do {
      const page = await client.send(
        new GetMetricDataCommand({ MetricDataQueries: batch.map((q) => q.query), StartTime: new Date(start), EndTime: new Date(start + periodSeconds * 1000), NextToken: token, ScanBy: "TimestampAscending" }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const q = byId.get(result.Id ?? "");
        const value = result.Values?.[0];
        if (!q || value === undefined) continue; // no datapoint: a gap, not a zero
        const key = q.dimensions.join("\u001f");
        const row = rows.get(key) ?? { timestamp: start, dimensions: q.dimensions, values: {} };
        row.values[q.measure] = value;
        rows.set(key, row);
      }
      token = page.NextToken;
    } while (token);
  }
  return [...rows.values()];
}

/** The CloudWatch source over the client it is given, each pull listing at most MAX_LISTED metrics unless told. */
export const cloudWatchSource = (client: CloudWatchClient, { maxListed = MAX_LISTED }: { readonly maxListed?: number } = {}): PulledSource => ({
  kind: "cloudwatch",
  readInterval: (metricSet, start, periodSeconds) => readCloudWatchInterval(client, metricSet, start, periodSeconds, maxListed),
});
