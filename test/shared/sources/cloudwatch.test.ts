import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { describe, expect, it } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import { cloudWatchSource } from "../../../shared/sources/cloudwatch.ts";
import { T0 } from "../../builders.ts";
import { startFakeCloudWatch, type FakeSeries } from "../../fakes/cloudwatch-server.ts";

/**
 * A tenant fills its own namespaces: one that holds a million series (or a million with one
 * more dimension, each listed then passed over) would have the ingest function, which pulls
 * every tenant's metric sets in turn, page through them all and ask GetMetricData for each. A
 * pull lists no more than its bound of metrics and says so. The series it keeps are held to
 * the metric set's quota by detection, by those an interval's rows hold: ListMetrics names
 * every series of the last two weeks.
 */
const HOUR = 3_600_000;
const metricSet = { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:111111111111:MetricSet/lbs/requests", MetricSetFrequency: "PT1H", MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM", Namespace: "Fleet" }], DimensionList: ["Host"] } as unknown as MetricSet;
/** `n` hosts' series, the first `live` of them with a point at T0 (the rest listed, as CloudWatch lists series of the last two weeks, without one). */
const hosts = (n: number, extra?: Record<string, string>, live = n): FakeSeries[] =>
  Array.from({ length: n }, (_, i) => ({ namespace: "Fleet", metricName: "RequestCount", dimensions: { Host: `h${i}`, ...extra }, points: new Map(i < live ? [[T0, i]] : []) }));
const clientOf = (endpoint: string) => new CloudWatchClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });

describe("a CloudWatch pull's bounds", () => {
  it("reads the series with data of however many listed, within its bound", async () => {
    const { endpoint } = await startFakeCloudWatch(hosts(40, undefined, 4));
    const rows = await cloudWatchSource(clientOf(endpoint), { maxListed: 40 }).readInterval(metricSet, T0, HOUR / 1000);
    expect(rows.map((r) => r.dimensions[0]).sort()).toEqual(["h0", "h1", "h2", "h3"]);
  });

  it("stops listing past its bound of metrics, those with other dimensions (passed over) counted too", async () => {
    const { endpoint, calls } = await startFakeCloudWatch(hosts(40, { Zone: "a" }));
    const pulled = cloudWatchSource(clientOf(endpoint), { maxListed: 6 }).readInterval(metricSet, T0, HOUR / 1000);
    await expect(pulled).rejects.toBeInstanceOf(ValidationException);
    await expect(pulled).rejects.toThrow(/more than 6 metrics for the metric set's measures \(reached at RequestCount in namespace Fleet\)/);
    expect(calls).toEqual(["ListMetrics", "ListMetrics", "ListMetrics", "ListMetrics"]);
  });
});
