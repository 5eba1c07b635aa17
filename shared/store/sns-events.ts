import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { eventIdOf, type AnomalyGroupEvent } from "../model/anomaly-event.ts";
import type { EventPublisher } from "./events.ts";

/**
 * Anomaly group events on an SNS topic, with message attributes a subscriber can filter
 * on (severity, detector, measure) and a deduplication id of group and revision. With no
 * topic (none configured), events are not announced.
 */
export class SnsEventPublisher implements EventPublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: () => string | undefined,
  ) {}

  async publish(event: AnomalyGroupEvent): Promise<void> {
    const TopicArn = this.topicArn();
    if (!TopicArn) return;
    const group = event.anomalyGroup;
    await this.client.send(
      new PublishCommand({
        TopicArn,
        Message: JSON.stringify(event),
        MessageAttributes: {
          type: { DataType: "String", StringValue: event.type },
          severity: { DataType: "Number", StringValue: String(group.AnomalyGroupScore) },
          anomalyDetectorArn: { DataType: "String", StringValue: event.anomalyDetectorArn },
          measure: { DataType: "String", StringValue: group.PrimaryMetricName },
          eventId: { DataType: "String", StringValue: eventIdOf(event) },
        },
      }),
    );
  }
}
