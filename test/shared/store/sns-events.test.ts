import { SNSClient } from "@aws-sdk/client-sns";
import { describe, expect, it } from "vitest";
import type { AnomalyGroupId } from "../../../shared/model/ids.ts";
import type { AnomalyGroupEvent } from "../../../shared/store/events.ts";
import { SnsEventPublisher } from "../../../shared/store/sns-events.ts";
import { startFakeSns } from "../../fakes/sns-server.ts";

const TOPIC = "arn:aws:sns:us-east-1:000000000000:vigil-anomaly-groups";
const event: AnomalyGroupEvent = {
  type: "AnomalyGroupChanged",
  anomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop",
  metricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/shop/orders",
  revision: 2,
  anomalyGroup: { AnomalyGroupId: "0b1c2d3e-aaaa-bbbb-cccc-0123456789ab" as AnomalyGroupId, StartTime: "2021-03-01T20:00:00Z", EndTime: "2021-03-01T22:00:00Z", AnomalyGroupScore: 96.4, PrimaryMetricName: "revenue", MetricLevelImpactList: [] },
};

describe("SnsEventPublisher against a local SNS", () => {
  it("publishes the event with attributes subscribers can filter on", async () => {
    const { endpoint, published } = await startFakeSns([TOPIC]);
    const publisher = new SnsEventPublisher(new SNSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }), TOPIC);
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
    const publisher = new SnsEventPublisher(new SNSClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 1 }), `${TOPIC}-gone`);
    await expect(publisher.publish(event)).rejects.toThrow(/Topic does not exist/);
  });
});
