import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { localRuntime } from "../../../shared/runtime/local.ts";
import { T0, tempDir } from "../../builders.ts";
import { inLocalMode } from "../local-mode.ts";

const loadHandler = async (dataDir: string) => (await inLocalMode(() => import("../../../functions/ingest/handler.ts"), dataDir)).ingest;

describe("ingest handler", () => {
  it("has nothing to pull when no active metric set reads CloudWatch", async () => {
    const ingest = await loadHandler(await tempDir());
    expect(await ingest(JSON.parse(await readFile("events/ingest/schedule.json", "utf8")))).toEqual({ ingested: [] });
  });

  it("says so when a metric set reads CloudWatch and the mode has no CloudWatch client", async () => {
    const dir = await tempDir();
    const rt = localRuntime(dir, () => T0);
    const detector = await rt.catalog.createDetector({ AnomalyDetectorName: "lbs", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await rt.catalog.createMetricSet({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "r", MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM", Namespace: "AWS/ApplicationELB" }], MetricSource: { CloudWatchConfig: {} } });
    await rt.catalog.setDetectorStatus(detector.AnomalyDetectorArn, "ACTIVE");
    const ingest = await loadHandler(dir);
    await expect(ingest(JSON.parse(await readFile("events/ingest/schedule.json", "utf8")))).rejects.toThrow(/reads CloudWatch, and no CloudWatch client is configured/);
  });
});
