import { describe, expect, it } from "vitest";
import { activateDetector, createDetector, createMetricSet, detectDue, executions, NO_DATA, OPERATOR } from "../../shared/app/index.ts";
import { HOUR, localAt, T0, tempDir } from "../builders.ts";

/**
 * Finding: an interval with no rows of a metric set read from the files Vigil ingests for it
 * (a CloudWatch source) said where it looked, a folder in Vigil's results store, in its
 * FailureReason: the server's path, which the tenant never named.
 */
describe("the reason of an interval with no data", () => {
  it("names no path of the results store for a metric set Vigil ingests", async () => {
    const rt = localAt(await tempDir(), () => T0);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "lbs", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(rt, OPERATOR, {
      AnomalyDetectorArn: detector.AnomalyDetectorArn,
      MetricSetName: "requests",
      MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM", Namespace: "AWS/ApplicationELB" }],
      DimensionList: ["LoadBalancer"],
      MetricSource: { CloudWatchConfig: { RoleArn: "arn:aws:iam::000000000000:role/vigil-cloudwatch" } },
    });
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    await detectDue(rt, T0 + 3 * HOUR);
    const found = await executions(rt, OPERATOR, detector.AnomalyDetectorArn, undefined);
    expect(found.length).toBeGreaterThan(0);
    for (const execution of found) {
      expect(execution).toMatchObject({ Status: "FAILED", FailureReason: expect.stringContaining(NO_DATA) });
      expect(execution.FailureReason).not.toContain(rt.resultsRoot);
      expect(execution.FailureReason).toContain("<results store>");
    }
  });
});
