import { OPERATOR, createDetector, createMetricSet } from "../../../shared/app/index.ts";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { metricSetRequest, T0, tempDir, localAt } from "../../builders.ts";
import { inLocalMode } from "../local-mode.ts";

const loadHandler = async (dataDir: string) => (await inLocalMode(() => import("../../../functions/api/handler.ts"), dataDir)).api;

describe("api handler (local mode)", () => {
  it("takes pushed rows from the sample HTTP API event and says which it refused", async () => {
    const dir = await tempDir();
    const rt = localAt(dir);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "pushed", MetricSource: { HttpPushConfig: {} } }));
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
