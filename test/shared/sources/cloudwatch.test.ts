import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { describe, expect, it } from "vitest";
import { ServiceQuotaExceededException, ValidationException } from "../../../shared/model/errors.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import { L4M_QUOTAS } from "../../../shared/model/quotas.ts";
import { cloudWatchSource } from "../../../shared/sources/cloudwatch.ts";
import { T0 } from "../../builders.ts";
import { startFakeCloudWatch, type FakeSeries } from "../../fakes/cloudwatch-server.ts";

/**
 * A tenant fills its own namespaces: one that holds a million series (or a million with one
 * more dimension, each listed then passed over) would have the ingest function, which pulls
 * every tenant's metric sets in turn, page through them all and ask GetMetricData for each. A
 * pull keeps no more series than the metric set's quota (detection scores no interval past
 * it) and lists no more than its bound of metrics, and says which it met.
 */
const HOUR = 3_600_000;
const metricSet = { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:111111111111:MetricSet/lbs/requests", MetricSetFrequency: "PT1H", MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM", Namespace: "Fleet" }], DimensionList: ["Host"] } as unknown as MetricSet;
const hosts = (n: number, extra?: Record<string, string>): FakeSeries[] =>
  Array.from({ length: n }, (_, i) => ({ namespace: "Fleet", metricName: "RequestCount", dimensions: { Host: `h${i}`, ...extra }, points: new Map([[T0, i]]) }));
const clientOf = (endpoint: string) => new CloudWatchClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });

describe("a CloudWatch pull's bounds", () => {
  it("reads every series within the quota", async () => {
    const { endpoint } = await startFakeCloudWatch(hosts(4));
    const rows = await cloudWatchSource(clientOf(endpoint), { ...L4M_QUOTAS, seriesPerMetricSet: { ...L4M_QUOTAS.seriesPerMetricSet, PT1H: 4 } }).readInterval(metricSet, T0, HOUR / 1000);
    expect(rows.map((r) => r.dimensions[0]).sort()).toEqual(["h0", "h1", "h2", "h3"]);
  });

  it("stops listing past the metric set's series quota, asking GetMetricData for none", async () => {
    const { endpoint, calls } = await startFakeCloudWatch(hosts(40));
    const pulled = cloudWatchSource(clientOf(endpoint), { ...L4M_QUOTAS, seriesPerMetricSet: { ...L4M_QUOTAS.seriesPerMetricSet, PT1H: 4 } }).readInterval(metricSet, T0, HOUR / 1000);
    await expect(pulled).rejects.toBeInstanceOf(ServiceQuotaExceededException);
    await expect(pulled).rejects.toMatchObject({ quotaCode: "TimeSeriesPerMetricSet", message: expect.stringMatching(/more than 4 time series/) });
    // Pages of two: the third page brings the fifth series.
    expect(calls).toEqual(["ListMetrics", "ListMetrics", "ListMetrics"]);
  });

  it("stops listing past its bound of metrics, those with other dimensions (passed over) counted too", async () => {
    const { endpoint, calls } = await startFakeCloudWatch(hosts(40, { Zone: "a" }));
    const pulled = cloudWatchSource(clientOf(endpoint), L4M_QUOTAS, { maxListed: 6 }).readInterval(metricSet, T0, HOUR / 1000);
    await expect(pulled).rejects.toBeInstanceOf(ValidationException);
    await expect(pulled).rejects.toThrow(/more than 6 metrics for the metric set's measures \(reached at RequestCount in namespace Fleet\)/);
    expect(calls).toEqual(["ListMetrics", "ListMetrics", "ListMetrics", "ListMetrics"]);
  });
});
