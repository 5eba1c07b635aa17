import { OPERATOR, activateDetector, createDetector, createMetricSet } from "../../../shared/app/index.ts";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { T0, tempDir, localAt } from "../../builders.ts";
import { inLocalMode } from "../local-mode.ts";

const loadHandler = async (dataDir: string) => (await inLocalMode(() => import("../../../functions/ingest/handler.ts"), dataDir)).ingest;

describe("ingest handler", () => {
  it("has nothing to pull when no active metric set reads CloudWatch", async () => {
    const ingest = await loadHandler(await tempDir());
    expect(await ingest(JSON.parse(await readFile("events/ingest/schedule.json", "utf8")))).toEqual({ ingested: [] });
  });

  it("says so when a metric set reads CloudWatch and the mode has no CloudWatch client", async () => {
    const dir = await tempDir();
    const rt = localAt(dir);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "lbs", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(rt, OPERATOR, { AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "r", MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM", Namespace: "AWS/ApplicationELB" }], MetricSource: { CloudWatchConfig: {} } });
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    const ingest = await loadHandler(dir);
    await expect(ingest(JSON.parse(await readFile("events/ingest/schedule.json", "utf8")))).rejects.toThrow(/reads CloudWatch, and no CloudWatch client is configured/);
  });
});
