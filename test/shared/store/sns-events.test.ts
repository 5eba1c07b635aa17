import { SNSClient } from "@aws-sdk/client-sns";
import { describe, expect, it } from "vitest";
import type { AnomalyGroupEvent } from "../../../shared/model/anomaly-event.ts";
import { SnsEventPublisher } from "../../../shared/store/sns-events.ts";
import { anomalyGroupEvent } from "../../builders.ts";
import { startFakeSns } from "../../fakes/sns-server.ts";

const TOPIC = "arn:aws:sns:us-east-1:000000000000:vigil-anomaly-groups";
const event: AnomalyGroupEvent = anomalyGroupEvent({ revision: 2, score: 96.4, groupId: "0b1c2d3e-aaaa-bbbb-cccc-0123456789ab" });

describe("SnsEventPublisher against a local SNS", () => {
  it("publishes the event with attributes subscribers can filter on", async () => {
    const { endpoint, published } = await startFakeSns([TOPIC]);
    const publisher = new SnsEventPublisher(new SNSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }), () => TOPIC);
    await publisher.publish(event);
    expect(published).toHaveLength(1);
    expect(JSON.parse(published[0]!.message)).toEqual(event);
    expect(published[0]!.attributes).toEqual({
      type: { dataType: "String", value: "AnomalyGroupChanged" },
      severity: { dataType: "Number", value: "96.4" },
      anomalyDetectorArn: { dataType: "String", value: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop" },
      measure: { dataType: "String", value: "revenue" },
      eventId: { dataType: "String", value: "0b1c2d3e-aaaa-bbbb-cccc-0123456789ab#2" },
    });
  });

  it("fails loudly on a topic that does not exist", async () => {
    const { endpoint } = await startFakeSns([TOPIC]);
    const publisher = new SnsEventPublisher(new SNSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 }), () => `${TOPIC}-gone`);
    await expect(publisher.publish(event)).rejects.toThrow(/Topic does not exist/);
  });

  it("announces nothing while no topic is known", async () => {
    const { endpoint, published } = await startFakeSns([TOPIC]);
    const publisher = new SnsEventPublisher(new SNSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }), () => undefined);
    await publisher.publish(event);
    expect(published).toEqual([]);
  });
});
