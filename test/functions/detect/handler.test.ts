import { OPERATOR, activateDetector, backTestDetector, createDetector, createMetricSet, describeDetector, executions } from "../../../shared/app/index.ts";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { csvOf, HOUR, metricSetRequest, shopPoints, T0, tempDir, localAt } from "../../builders.ts";
import { inLocalMode } from "../local-mode.ts";

const loadModule = (dataDir: string) => inLocalMode(() => import("../../../functions/detect/handler.ts"), dataDir);
const loadHandler = async (dataDir: string) => (await loadModule(dataDir)).detect;

async function activeShop(dir: string) {
  const rt = localAt(dir);
  await rt.blobs.put(join(dir, "files", "history.csv"), csvOf(shopPoints(T0, 24 * 7, [{ platform: "web", marketplace: "de", base: 300 }])));
  const detector = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "files/live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(dir, "files/history.csv")] } } }));
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
}

describe("detect handler", () => {
  it("runs the intervals due at the schedule's firing time, from the sample event", async () => {
    const dir = await tempDir();
    await activeShop(dir);
    const event = JSON.parse(await readFile("events/detect/schedule.json", "utf8"));
    const detect = await loadHandler(dir);
    const fired = { ...event, time: new Date(T0 + 24 * 7 * HOUR + 2 * HOUR).toISOString() };
    const result = await detect(fired);
    // History ends an hour before the first live hour: both hours since are due, and neither has a file: the catch-up
    // starts where the data starts, so only the newest runs, and says it had none.
    expect(result.intervals.map((i) => i.intervalStart)).toEqual([new Date(T0 + 24 * 7 * HOUR + HOUR).toISOString()]);
    expect(result.intervals[0]!.outcome).toBe("processed");
    expect((await detect(fired)).intervals).toEqual([]);
    // Its record is kept from when it was written, not from the event's time, long past: DescribeAnomalyDetectionExecutions reports it.
    const now = localAt(dir, Date.now);
    const [detector] = await now.records.list<{ AnomalyDetectorArn: string }>("detectors");
    expect((await executions(now, OPERATOR, detector!.AnomalyDetectorArn)).map((e) => e.Timestamp)).toEqual([new Date(T0 + 24 * 7 * HOUR + HOUR).toISOString()]);

    // A file arriving wakes detection early; the same rules decide what is due.
    const s3Event = JSON.parse(await readFile("events/detect/s3-object-created.json", "utf8"));
    s3Event.Records[0].eventTime = new Date(T0 + 24 * 7 * HOUR + 3 * HOUR + 60_000).toISOString();
    const early = await detect(s3Event);
    expect(early.trigger).toBe("object-created");
    expect(early.intervals.map((i) => i.intervalStart)).toEqual([new Date(T0 + 24 * 7 * HOUR + 2 * HOUR).toISOString()]);
  });

  it("logs each interval as JSON with a correlation id and emits EMF metrics", async () => {
    const dir = await tempDir();
    await activeShop(dir);
    const { handler } = await loadModule(dir);
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    try {
      const event = JSON.parse(await readFile("events/detect/schedule.json", "utf8"));
      const context = { functionName: "vigil-detect", awsRequestId: "req-1", invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:vigil-detect", memoryLimitInMB: "1024", functionVersion: "$LATEST", getRemainingTimeInMillis: () => 60_000 };
      await handler({ ...event, time: new Date(T0 + 24 * 7 * HOUR + HOUR).toISOString() }, context as never);
    } finally {
      spy.mockRestore();
    }
    const json = lines.flatMap((l) => l.split("\n")).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    const processed = json.find((l) => l["message"] === "interval processed");
    expect(processed).toMatchObject({ level: "INFO", service: "vigil", correlationId: expect.stringMatching(/MetricSet\/shop\/orders@2021-01-11T00:00:00.000Z$/), rowsRead: 0, function_request_id: "req-1" });
    const emf = json.find((l) => l["_aws"] !== undefined) as { _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] } } | undefined;
    expect(emf?._aws.CloudWatchMetrics[0]?.Namespace).toBe("Vigil");
    expect(emf?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual(expect.arrayContaining(["RowsRead", "RowsRejected", "SeriesScored", "Anomalies", "AnomalyGroups", "DetectionLag"]));
  });

  it("gives back-tests half of the invocation's time: one that does not finish within it fails with the reason, and detection runs", async () => {
    const dir = await tempDir();
    await activeShop(dir);
    const rt = localAt(dir);
    await rt.blobs.put(join(dir, "trial", "history.csv"), csvOf(shopPoints(T0, 24 * 14, [{ platform: "web", marketplace: "de", base: 300 }])));
    const trial = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: trial.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "trial")] } } }));
    await backTestDetector(rt, OPERATOR, trial.AnomalyDetectorArn);
    const detect = await loadHandler(dir);
    const event = JSON.parse(await readFile("events/detect/schedule.json", "utf8"));
    // No time left: its share is none.
    const result = await detect({ ...event, time: new Date(T0 + 24 * 7 * HOUR + HOUR).toISOString() }, { getRemainingTimeInMillis: () => 0 });
    expect(result.backTests).toBe(1);
    expect(await describeDetector(rt, OPERATOR, trial.AnomalyDetectorArn)).toMatchObject({ Status: "FAILED", FailureType: "BACK_TEST_ACTIVATION_FAILURE", FailureReason: expect.stringContaining("did not finish within the 0 s a detect invocation gives back-tests") });
    expect(result.intervals.map((i) => i.outcome)).toEqual(["processed"]);
  });

  it("answers a malformed event with a ValidationException naming the field", async () => {
    const detect = await loadHandler(await tempDir());
    // The handler module was loaded afresh, with its own copy of the error classes: compare by code.
    const failure = (event: unknown) => detect(event).then(() => undefined, (e: ValidationException) => e);
    expect(await failure({ "detail-type": "Scheduled Event", time: "yesterday" })).toMatchObject({ code: "ValidationException", fields: [{ Name: "time" }] });
    expect(await failure({ Records: [] })).toMatchObject({ code: "ValidationException", fields: [{ Name: "Records" }] });
    const removed = JSON.parse(await readFile("events/detect/s3-object-created.json", "utf8"));
    removed.Records[0].eventName = "ObjectRemoved:Delete";
    expect(await failure(removed)).toMatchObject({ code: "ValidationException", fields: [{ Name: "Records[0].eventName", Message: "must be an ObjectCreated event" }] });
    expect(await failure({ hello: "world" })).toMatchObject({ code: "ValidationException", reason: "CANNOT_PARSE" });
    // A key S3 did not encode (a stray '%'): refused as the event's field, not a URIError.
    const stray = JSON.parse(await readFile("events/detect/s3-object-created.json", "utf8"));
    stray.Records[0].s3.object.key = "shop/live/20210301/2000/100%.csv";
    expect(await failure(stray)).toMatchObject({ code: "ValidationException", fields: [{ Name: "Records[0].s3.object.key", Message: "must be URL-encoded, as S3 sends it" }] });
  });
});
