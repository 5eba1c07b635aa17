import { describe, expect, it } from "vitest";
import { runtimeFactory } from "../../../shared/runtime/wiring.ts";
import type { AnomalyGroupEvent } from "../../../shared/model/anomaly-event.ts";
import type { EventPublisher } from "../../../shared/store/events.ts";

const aws = { VIGIL_MODE: "aws" as const, VIGIL_TABLE: "vigil-dev-records", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "eu-west-1", VIGIL_EVENTS_TOPIC: "vigil-dev-anomaly-groups" };

/** A publisher that only remembers where it was pointed. */
class Recorder implements EventPublisher {
  constructor(readonly topicArn: string) {}
  async publish(_: AnomalyGroupEvent): Promise<void> {}
}

describe("adapter wiring", () => {
  it("completes the events topic's ARN from the function's own, once per process", () => {
    const made: string[] = [];
    const runtimeAt = runtimeFactory(aws, { events: (_, arn) => (made.push(arn), new Recorder(arn)) });
    const fn = "arn:aws:lambda:eu-west-1:123456789012:function:vigil-dev-detect";
    expect((runtimeAt(() => 0, fn).events as Recorder).topicArn).toBe("arn:aws:sns:eu-west-1:123456789012:vigil-dev-anomaly-groups");
    runtimeAt(() => 0, fn);
    expect(made).toHaveLength(1);
  });

  it("announces nothing without a topic, a publisher or a function ARN", () => {
    const events = () => new Recorder("x");
    expect(runtimeFactory(aws, { events })(() => 0).events).toBeUndefined();
    expect(runtimeFactory({ ...aws, VIGIL_EVENTS_TOPIC: undefined }, { events })(() => 0, "arn:aws:lambda:eu-west-1:1:function:f").events).toBeUndefined();
    expect(runtimeFactory(aws)(() => 0, "arn:aws:lambda:eu-west-1:123456789012:function:f").events).toBeUndefined();
  });

  it("keeps the local mode's events in a file under the data directory", () => {
    expect(runtimeFactory({ VIGIL_MODE: "local", VIGIL_DATA_DIR: "somewhere" })(() => 0).events).toBeDefined();
  });
});
