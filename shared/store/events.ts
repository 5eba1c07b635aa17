import type { AnomalyGroup } from "../model/anomaly.ts";

/**
 * The event port: detection announces each new or changed anomaly group, and alerting
 * listens (in AWS through an SNS topic). An event carries the group in L4M's shape, the
 * detector and metric set it belongs to, and a revision, so a listener can tell a grown
 * group from a re-delivered event.
 */
export interface AnomalyGroupEvent {
  readonly type: "AnomalyGroupChanged";
  readonly anomalyDetectorArn: string;
  readonly metricSetArn: string;
  readonly revision: number;
  readonly anomalyGroup: AnomalyGroup;
}

export interface EventPublisher {
  publish(event: AnomalyGroupEvent): Promise<void>;
}
