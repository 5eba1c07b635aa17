import { OPERATOR, createDetector, createMetricSet } from "../../../shared/app/index.ts";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { metricSetRequest, T0, tempDir, localAt } from "../../builders.ts";
import { inLocalMode } from "../local-mode.ts";
import { shop } from "../../shared/app/shop.ts";

const loadHandler = async (dataDir: string) => (await inLocalMode(() => import("../../../functions/api/handler.ts"), dataDir)).api;

describe("api handler (local mode)", () => {
  it("takes pushed rows from the sample HTTP API event and says which it refused", async () => {
    const dir = await tempDir();
    const rt = localAt(dir);
    const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSetName: "pushed", MetricSource: { HttpPushConfig: {} } }));
    const api = await loadHandler(dir);
    // The sample's rows, stamped an hour before now (this handler runs on the real clock; rows further back than a history reaches are refused).
    const event = JSON.parse(await readFile("events/api/put-metric-rows.json", "utf8"));
    const lastHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString().slice(0, 19).replace("T", " ");
    event.body = String(event.body).replaceAll("2021-03-01 21:00:00", lastHour);
    const res = await api(event);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ RowsAccepted: 2, RowsRejected: 1, Rejects: [{ Index: 2, Reason: "MISSING_DIMENSION_VALUE" }] });
    expect(JSON.parse((await api(JSON.parse(await readFile("events/api/health.json", "utf8")))).body)).toMatchObject({ status: "ok" });
  });

  it("answers an unknown metric set as L4M does, and refuses an event that is not from the HTTP API", async () => {
    const api = await loadHandler(await tempDir());
    // The sample's rows, stamped an hour before now (this handler runs on the real clock; rows further back than a history reaches are refused).
    const event = JSON.parse(await readFile("events/api/put-metric-rows.json", "utf8"));
    const lastHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString().slice(0, 19).replace("T", " ");
    event.body = String(event.body).replaceAll("2021-03-01 21:00:00", lastHour);
    const res = await api(event);
    expect(res.statusCode).toBe(400);
    expect(res.headers["x-amzn-errortype"]).toBe("ResourceNotFoundException");
    await expect(api({ Records: [] })).rejects.toMatchObject({ name: "ValidationException" });
  });

  it("refuses a body larger than 6 MiB once decoded, measured before decoding, and takes one of exactly 6 MiB", async () => {
    const api = await loadHandler(await tempDir());
    const event = JSON.parse(await readFile("events/api/put-metric-rows.json", "utf8"));
    const limit = 6 * 1024 * 1024;
    const over = await api({ ...event, isBase64Encoded: true, body: Buffer.alloc(limit + 1, 0x20).toString("base64") });
    expect(over.statusCode).toBe(413);
    expect(JSON.parse(over.body)).toMatchObject({ __type: "ValidationException", Message: expect.stringMatching(/larger than 6291456 bytes/) });
    expect(over.headers["x-amzn-requestid"]).toBe(event.requestContext.requestId);
    // Exactly the limit, 8 MiB as base64: read, then refused for what it says (blank JSON is an empty request).
    const at = await api({ ...event, isBase64Encoded: true, body: Buffer.alloc(limit, 0x20).toString("base64") });
    expect(at.statusCode).toBe(400);
    expect(at.headers["x-amzn-errortype"]).toBe("ValidationException");
    expect((await api({ ...event, isBase64Encoded: false, body: " ".repeat(limit + 1) })).statusCode).toBe(413);
  });

  it("publishes the figures of the deliveries a replay made with its answer: a replay that fails again counts for the DeliveriesParked alarm", async () => {
    // Its webhook's receiver keeps answering 410: the parked deliveries are parked again.
    const s = await shop(8);
    const { handler } = await inLocalMode(() => import("../../../functions/api/handler.ts"), join(s.dir, "vigil"));
    const sample = JSON.parse(await readFile("events/api/put-metric-rows.json", "utf8"));
    const event = { ...sample, rawPath: "/ReplayDeliveries", body: "{}", requestContext: { ...sample.requestContext, http: { ...sample.requestContext.http, path: "/ReplayDeliveries" } } };
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    let res: { statusCode: number; body: string };
    try {
      res = await handler(event, { functionName: "vigil-api", awsRequestId: "req-1", invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:vigil-api", memoryLimitInMB: "1024", functionVersion: "$LATEST", getRemainingTimeInMillis: () => 60_000 } as never);
    } finally {
      spy.mockRestore();
    }
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ Retried: 0, Remaining: expect.any(Number) });
    expect(JSON.parse(res.body).Remaining).toBeGreaterThan(0);
    const emf = lines.flatMap((l) => l.split("\n")).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }; DeliveriesFailed?: number });
    expect(emf.flatMap((e) => e._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)))).toContain("DeliveriesFailed");
  });

  it("answers what an invocation throws as L4M answers an error, not with API Gateway's plain 500: an event that is not the HTTP API's is named the caller's error", async () => {
    const { handler } = await inLocalMode(() => import("../../../functions/api/handler.ts"), await tempDir());
    const context = { functionName: "vigil-api", awsRequestId: "req-1", invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:vigil-api", memoryLimitInMB: "1024", functionVersion: "$LATEST", getRemainingTimeInMillis: () => 60_000 };
    const refused = await handler({ Records: [] }, context as never);
    expect(refused.statusCode).toBe(400);
    expect(refused.headers["x-amzn-errortype"]).toBe("ValidationException");
    expect(JSON.parse(refused.body)).toMatchObject({ __type: "ValidationException", Message: expect.stringMatching(/HTTP API event/) });
    expect(refused.headers["x-amzn-requestid"]).toBe("req-1");
  });
});
