import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";

/** The event port: where detection announces anomaly groups (SNS in AWS, a local file or inline alerting locally). */
export interface EventPublisher {
  publish(event: AnomalyGroupEvent): Promise<void>;
}
