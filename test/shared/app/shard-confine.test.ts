import { describe, expect, it } from "vitest";
import { confine } from "../../../shared/app/shard-confine.ts";
import type { ShardMessage } from "../../../shared/app/shard-queue.ts";
import { metricSetRoot, runsUri } from "../../../shared/detect/results.ts";
import type { ShardJob } from "../../../shared/detect/shard-job.ts";
import type { AnomalyDetectorArn, MetricSetArn } from "../../../shared/model/ids.ts";
import { ValidationException } from "../../../shared/model/errors.ts";

const RESULTS = "s3://vigil-results";
const ARN = "arn:aws:lookoutmetrics:us-east-1:111111111111:MetricSet/shop/orders" as MetricSetArn;
const root = metricSetRoot(RESULTS, { MetricSetArn: ARN });
const work = runsUri(root, "1610000000000", "run");

/** A shard job of the metric set, as a run hands it over; `overrides` change its fields. */
function message(overrides: Partial<ShardJob> = {}): ShardMessage {
  const job: ShardJob = {
    metricSet: { MetricSetArn: ARN, AnomalyDetectorArn: "arn:aws:lookoutmetrics:us-east-1:111111111111:AnomalyDetector:shop" as AnomalyDetectorArn, MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], DimensionList: ["shop"], MetricSetFrequency: "PT1H" },
    root,
    target: "0",
    source: { id: "", version: "1609996400000-older" },
    version: "1610000000000-run",
    capacity: 4,
    input: { kind: "interval", cells: { uri: `${work}/in/s0.bin` } },
    ...overrides,
  };
  return { kind: "shard", run: { metricSetArn: ARN, work, jobs: 2 }, job };
}

describe("a shard message", () => {
  it("is taken when everything it reads and writes is its metric set's", () => {
    expect(() => confine({ resultsRoot: RESULTS }, message())).not.toThrow();
    expect(() => confine({ resultsRoot: RESULTS }, message({ source: { id: "", version: "legacy" } }))).not.toThrow();
    expect(() => confine({ resultsRoot: RESULTS }, message({ source: undefined }))).not.toThrow();
  });

  it("is refused when the model versions it writes or reads lead out of its metric set's results", () => {
    const other = "../../../../222222222222/shop/orders/model/1610000000000-run";
    expect(() => confine({ resultsRoot: RESULTS }, message({ version: other }))).toThrow(ValidationException);
    expect(() => confine({ resultsRoot: RESULTS }, message({ source: { id: "", version: other } }))).toThrow(ValidationException);
    expect(() => confine({ resultsRoot: RESULTS }, message({ version: "..\\..\\x" }))).toThrow(ValidationException);
  });

  it("is refused when its input leads out of its metric set's results", () => {
    expect(() => confine({ resultsRoot: RESULTS }, message({ input: { kind: "interval", cells: { uri: `${work}/../../../../../../222222222222/shop/orders/in.bin` } } }))).toThrow(ValidationException);
  });
});
