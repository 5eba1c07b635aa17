import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { localRuntime } from "../../../shared/runtime/local.ts";
import { csvOf, HOUR, metricSetRequest, shopPoints, T0, tempDir } from "../../builders.ts";

async function loadHandler(dataDir: string) {
  vi.resetModules();
  vi.stubEnv("VIGIL_MODE", "local");
  vi.stubEnv("VIGIL_DATA_DIR", dataDir);
  return (await import("../../../functions/detect/handler.ts")).detect;
}

describe("detect handler", () => {
  it("runs the intervals due at the schedule's firing time, from the sample event", async () => {
    const dir = await tempDir();
    const rt = localRuntime(dir, () => T0);
    await rt.blobs.put(join(dir, "files", "history.csv"), csvOf(shopPoints(T0, 24 * 7, [{ platform: "web", marketplace: "de", base: 300 }])));
    const detector = await rt.catalog.createDetector({ AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await rt.catalog.createMetricSet(metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dir, "files/live/{{yyyyMMdd}}/{{HHmm}}")], HistoricalDataPathList: [join(dir, "files/history.csv")] } } }));
    await rt.catalog.setDetectorStatus(detector.AnomalyDetectorArn, "ACTIVE");
    const event = JSON.parse(await readFile("events/detect/schedule.json", "utf8"));
    const detect = await loadHandler(dir);
    const fired = { ...event, time: new Date(T0 + 24 * 7 * HOUR + 2 * HOUR).toISOString() };
    const result = await detect(fired);
    // History ends an hour before the first live hour: both hours since are due.
    expect(result.intervals.map((i) => i.intervalStart)).toEqual([new Date(T0 + 24 * 7 * HOUR).toISOString(), new Date(T0 + 24 * 7 * HOUR + HOUR).toISOString()]);
    expect(result.intervals[0]!.outcome).toBe("processed");
    expect((await detect(fired)).intervals).toEqual([]);

    // A file arriving wakes detection early; the same rules decide what is due.
    const s3Event = JSON.parse(await readFile("events/detect/s3-object-created.json", "utf8"));
    s3Event.Records[0].eventTime = new Date(T0 + 24 * 7 * HOUR + 3 * HOUR + 60_000).toISOString();
    const early = await detect(s3Event);
    expect(early.trigger).toBe("object-created");
    expect(early.intervals.map((i) => i.intervalStart)).toEqual([new Date(T0 + 24 * 7 * HOUR + 2 * HOUR).toISOString()]);
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
  });
});
