import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAlert, createDetector, OPERATOR } from "../../../shared/app/index.ts";
import { servicesFor } from "../../../shared/runtime/index.ts";
import { anomalyGroupEvent, tempDir } from "../../builders.ts";
import { startFakeSns } from "../../fakes/sns-server.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";

const aws = { VIGIL_MODE: "aws" as const, VIGIL_TABLE: "vigil-dev-records", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "us-east-1", VIGIL_EVENTS_TOPIC: "vigil-dev-anomaly-groups" };

describe("servicesFor", () => {
  let receiver: HttpReceiver;
  beforeAll(async () => void (receiver = await HttpReceiver.start()));
  afterAll(() => receiver.stop());
  afterEach(() => vi.unstubAllEnvs());

  it("local: an announced event is kept in the events file and routed to its detector's alerts at once", async () => {
    const dir = await tempDir();
    const services = await servicesFor({ VIGIL_MODE: "local", VIGIL_DATA_DIR: dir });
    const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createAlert(services, OPERATOR, { AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: `${receiver.url}/local` } } });
    const event = anomalyGroupEvent();
    await services.events.publish(event);
    expect((await readFile(join(dir, "events", "anomaly-groups.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l))).toEqual([event]);
    const sent = receiver.requests.filter((r) => r.path === "/local");
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!.body)).toMatchObject({ schema: "vigil.alert/v1", anomalyGroup: { id: event.anomalyGroup.AnomalyGroupId } });
  });

  it("aws: the events topic's ARN is completed from the running function's, and nothing is published before one is known", async () => {
    const topic = "arn:aws:sns:us-east-1:123456789012:vigil-dev-anomaly-groups";
    const { endpoint, published } = await startFakeSns([topic]);
    vi.stubEnv("AWS_ENDPOINT_URL_SNS", endpoint);
    vi.stubEnv("AWS_ACCESS_KEY_ID", "local");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "local");
    let functionArn: string | undefined;
    const services = await servicesFor(aws, { invokedFunctionArn: () => functionArn });
    await services.events.publish(anomalyGroupEvent());
    expect(published).toEqual([]);
    functionArn = "arn:aws:lambda:us-east-1:123456789012:function:vigil-dev-detect";
    await services.events.publish(anomalyGroupEvent());
    expect(published.map((p) => p.topicArn)).toEqual([topic]);
  });

  it("aws: a step whose queue is not configured says which setting is missing", async () => {
    const services = await servicesFor(aws);
    await expect(services.deliveryQueue.enqueue([])).rejects.toThrow(/VIGIL_DELIVERY_QUEUE_URL is required/);
  });
});
