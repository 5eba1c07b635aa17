import { describe, expect, it } from "vitest";
import { messageOf } from "../../../shared/runtime/queue-events.ts";
import { ShardMessageSchema } from "../../../shared/runtime/shard-messages.ts";

/** A shard job's message as the shard queue sends it, of a metric set at `frequency`, its model's hash key given. */
const jobMessage = (frequency: string, hashKey?: unknown) => ({
  kind: "shard",
  run: { metricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/d/shop", work: "s3://vigil/results/runs/1", jobs: 2 },
  job: {
    metricSet: { MetricSetArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:MetricSet/d/shop", AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:d", MetricList: [{ MetricName: "orders", AggregationFunction: "SUM" }], MetricSetFrequency: frequency },
    root: "s3://vigil/results",
    target: "01",
    version: "1-a",
    capacity: 16,
    ...(hashKey === undefined ? {} : { hashKey }),
    input: { kind: "interval", cells: { uri: "s3://vigil/results/runs/1/s01.bin" } },
  },
});

describe("a shard queue's message", () => {
  it("carries the model's hash key, and a metric set of every frequency (PT1M too: its handed shards were refused)", () => {
    for (const frequency of ["PT1M", "PT5M", "PT10M", "PT1H", "P1D"]) {
      const parsed = messageOf(ShardMessageSchema, JSON.stringify(jobMessage(frequency, [0, 0xffffffff])), "shard message");
      expect(parsed).toMatchObject({ job: { hashKey: [0, 0xffffffff], metricSet: { MetricSetFrequency: frequency } } });
    }
    expect(messageOf(ShardMessageSchema, JSON.stringify(jobMessage("PT1H")), "shard message")).not.toHaveProperty("job.hashKey");
  });

  it("refuses a hash key that is not two 32-bit words", () => {
    for (const hashKey of [[1], [1, 2, 3], [-1, 2], [1, 2 ** 32], [1.5, 2], "12"]) expect(() => messageOf(ShardMessageSchema, JSON.stringify(jobMessage("PT1H", hashKey)), "shard message")).toThrow(/hashKey/);
  });
});
