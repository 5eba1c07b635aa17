import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { describe, expect, it } from "vitest";
import type { DueRun } from "../../../shared/app/detect.ts";
import { powertoolsObserver } from "../../../shared/runtime/observability.ts";
import { HOUR, T0 } from "../../builders.ts";

/** The Lambda functions' observer: what an interval's outcome becomes in CloudWatch metrics (EMF). */
describe("the Lambda observer", () => {
  it("counts a run that outlived its lease in RunsPastTheirLease, apart from the intervals processed", () => {
    const metrics = new Metrics({ namespace: "Vigil", serviceName: "vigil" });
    const run = { metricSet: { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders", MetricSetFrequency: "PT1H" }, intervalStart: T0, outcome: { kind: "lease-expired" } } as unknown as DueRun;
    powertoolsObserver(new Logger({ serviceName: "vigil", logLevel: "SILENT" }), metrics).intervalRun(run, T0 + HOUR);
    const emf = metrics.serializeMetrics();
    expect(emf._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).toEqual(["RunsPastTheirLease"]);
    expect((emf as unknown as Record<string, unknown>)["RunsPastTheirLease"]).toBe(1);
  });
});

describe("the Lambda observer's lags", () => {
  it("count from the instant the interval closed, which a day of a zone says", () => {
    const metrics = new Metrics({ namespace: "Vigil", serviceName: "vigil" });
    const closedAt = Date.UTC(2021, 1, 9, 5); // New York's midnight ending 8 February
    const run = { metricSet: { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders", MetricSetFrequency: "P1D", Timezone: "America/New_York" }, intervalStart: Date.UTC(2021, 1, 8), closedAt, outcome: { kind: "processed", execution: { rowsRead: 1, rowsRejected: 0, seriesScored: 1, anomalies: 0 } } } as unknown as DueRun;
    powertoolsObserver(new Logger({ serviceName: "vigil", logLevel: "SILENT" }), metrics).intervalRun(run, closedAt + 600_000);
    expect((metrics.serializeMetrics() as unknown as Record<string, unknown>)["DetectionLag"]).toBe(600);
  });
});
