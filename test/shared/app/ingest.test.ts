import { join } from "node:path";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { describe, expect, it } from "vitest";
import { activateDetector, createDetector, createMetricSet, detectDue, ingestDue, OPERATOR } from "../../../shared/app/index.ts";
import type { AnomalyGroupRecord } from "../../../shared/model/anomaly.ts";
import { cloudWatchSource } from "../../../shared/sources/cloudwatch.ts";
import { cycle, HOUR, localAt, T0, tempDir } from "../../builders.ts";
import { startFakeCloudWatch, type FakeSeries } from "../../fakes/cloudwatch-server.ts";

const HOURS = 24 * 10;
const INCIDENT = T0 + (HOURS - 3) * HOUR;

/** Request counts per load balancer, hourly, and a collapse of one of them near the end. */
function fleet(): FakeSeries[] {
  return ["lb-a", "lb-b", "lb-c"].map((lb, i) => ({
    namespace: "AWS/ApplicationELB",
    metricName: "RequestCount",
    dimensions: { LoadBalancer: lb, AvailabilityZone: "us-east-1a" },
    points: new Map(Array.from({ length: HOURS }, (_, h) => [T0 + h * HOUR, lb === "lb-b" && T0 + h * HOUR >= INCIDENT ? 3 : cycle(T0 + h * HOUR, 500 + 100 * i)] as const)),
  }));
}

describe("CloudWatch ingest", () => {
  it("pulls every series of the measure with the metric set's dimensions into canonical hourly files, which detection reads", async () => {
    const { endpoint, calls } = await startFakeCloudWatch(fleet());
    const client = new CloudWatchClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    const dir = await tempDir();
    let now = T0;
    const rt = localAt(dir, () => now, { cloudwatch: cloudWatchSource(client) });
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "lbs", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const metricSet = await createMetricSet(rt, OPERATOR, {
      AnomalyDetectorArn: detector.AnomalyDetectorArn,
      MetricSetName: "requests",
      MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM", Namespace: "AWS/ApplicationELB" }],
      DimensionList: ["LoadBalancer", "AvailabilityZone"],
      MetricSource: { CloudWatchConfig: { RoleArn: "arn:aws:iam::000000000000:role/vigil-cloudwatch" } },
    });
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);

    const groups = new Set<string>();
    for (let h = 1; h <= HOURS; h++) {
      now = T0 + h * HOUR;
      const ingested = await ingestDue(rt, now);
      expect(ingested.map((r) => [r.intervalStart, r.rows])).toEqual([[now - HOUR, 3]]);
      for (const run of await detectDue(rt, now)) if (run.outcome.kind === "processed" && run.outcome.group) groups.add(run.outcome.group.AnomalyGroupId);
    }
    expect(calls).toContain("ListMetrics");
    expect(calls).toContain("GetMetricData");

    const file = join(dir, "results", "000000000000", "lbs", "requests", "ingested", "20210113", "2100", "cloudwatch.csv");
    expect(new TextDecoder().decode(await rt.blobs.get(file))).toMatch(/^timestamp,LoadBalancer,AvailabilityZone,RequestCount\n2021-01-13T21:00:00.000Z,lb-a,us-east-1a,\d+\n/);
    const found = await Promise.all([...groups].map((id) => rt.records.get<AnomalyGroupRecord>("groups", `000000000000/lbs/requests/${id}`)));
    const incident = found.find((g) => g && g.startMs === INCIDENT);
    expect(incident?.impacts["RequestCount"]?.deviation["LoadBalancer"]).toEqual({ "lb-b": expect.any(Number) });
    expect(metricSet.MetricSource.CloudWatchConfig).toBeDefined();
  });

  it("refuses a CloudWatch metric set whose measures have no namespace", async () => {
    const rt = localAt(await tempDir());
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "lbs", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await expect(
      createMetricSet(rt, OPERATOR, { AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "r", MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM" }], MetricSource: { CloudWatchConfig: {} } }),
    ).rejects.toMatchObject({ fields: [{ Name: "MetricList[0].Namespace" }] });
  });

  it("pulls a daily metric set's day from its zone's midnight to the next (23 hours when summer time starts), filed under its date", async () => {
    const ny = (day: number, month = 1) => Date.UTC(2021, month, day, 5); // New York's midnight in winter
    const series: FakeSeries = { namespace: "Shop", metricName: "Orders", dimensions: { Store: "nyc" }, points: new Map([[ny(8), 120], [ny(14, 2), 90]]) };
    const { endpoint, spans } = await startFakeCloudWatch([series]);
    const client = new CloudWatchClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    const dir = await tempDir();
    const rt = localAt(dir, () => T0, { cloudwatch: cloudWatchSource(client) });
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "P1D" } });
    await createMetricSet(rt, OPERATOR, {
      AnomalyDetectorArn: detector.AnomalyDetectorArn,
      MetricSetName: "orders",
      MetricSetFrequency: "P1D",
      Timezone: "America/New_York",
      MetricList: [{ MetricName: "Orders", AggregationFunction: "SUM", Namespace: "Shop" }],
      DimensionList: ["Store"],
      MetricSource: { CloudWatchConfig: { RoleArn: "arn:aws:iam::000000000000:role/vigil-cloudwatch" } },
    });
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);

    // Its lag counts from New York's midnight.
    expect((await ingestDue(rt, ny(9) + HOUR)).map((r) => [new Date(r.intervalStart).toISOString(), r.rows, r.closedAt])).toEqual([["2021-02-08T00:00:00.000Z", 1, ny(9)]]);
    expect(spans.at(-1)).toEqual([ny(8), ny(9)]);
    const file = join(dir, "results", "000000000000", "shop", "orders", "ingested", "20210208", "0000", "cloudwatch.csv");
    expect(new TextDecoder().decode(await rt.blobs.get(file))).toContain(`${new Date(ny(8)).toISOString()},nyc,120`);
    // 14 March has 23 hours in New York: it ends at 04:00 UTC on the 15th.
    await ingestDue(rt, Date.UTC(2021, 2, 15, 4, 30));
    expect(spans.at(-1)).toEqual([ny(14, 2), Date.UTC(2021, 2, 15, 4)]);
  });
});
