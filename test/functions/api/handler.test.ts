import { readFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { localRuntime } from "../../../shared/runtime/local.ts";
import { T0, tempDir } from "../../builders.ts";

async function loadHandler(dataDir: string) {
  vi.resetModules();
  vi.stubEnv("VIGIL_MODE", "local");
  vi.stubEnv("VIGIL_DATA_DIR", dataDir);
  return (await import("../../../functions/api/handler.ts")).api;
}

describe("api handler (local mode)", () => {
  it("takes pushed rows from the sample HTTP API event and says which it refused", async () => {
    const dir = await tempDir();
    const rt = localRuntime(dir, () => T0);
    const detector = await rt.catalog.createDetector({ AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await rt.catalog.createMetricSet({
      AnomalyDetectorArn: detector.AnomalyDetectorArn,
      MetricSetName: "pushed",
      MetricList: [
        { MetricName: "views", AggregationFunction: "SUM" },
        { MetricName: "revenue", AggregationFunction: "SUM" },
      ],
      DimensionList: ["platform", "marketplace"],
      TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
      MetricSource: { HttpPushConfig: {} },
    });
    const api = await loadHandler(dir);
    const res = await api(JSON.parse(await readFile("events/api/put-metric-rows.json", "utf8")));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ RowsAccepted: 2, RowsRejected: 1, Rejects: [{ Index: 2, Reason: "MISSING_DIMENSION_VALUE" }] });
    expect(JSON.parse((await api(JSON.parse(await readFile("events/api/health.json", "utf8")))).body)).toMatchObject({ status: "ok" });
  });

  it("answers an unknown metric set as L4M does, and refuses an event that is not from the HTTP API", async () => {
    const api = await loadHandler(await tempDir());
    const res = await api(JSON.parse(await readFile("events/api/put-metric-rows.json", "utf8")));
    expect(res.statusCode).toBe(400);
    expect(res.headers["x-amzn-errortype"]).toBe("ResourceNotFoundException");
    await expect(api({ Records: [] })).rejects.toMatchObject({ name: "ValidationException" });
  });
});
