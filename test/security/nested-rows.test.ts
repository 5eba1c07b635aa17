import { describe, expect, it } from "vitest";
import { createDetector, createMetricSet, OPERATOR } from "../../shared/app/index.ts";
import { router } from "../../shared/api/router.ts";
import { localAt, T0, tempDir } from "../builders.ts";

/**
 * JSON has no depth limit, and the body limit lets a value nest a million deep: a
 * PutMetricRows row so nested is the caller's error (ValidationException naming the row),
 * not the server's (InternalServerException, from a stack overflowed on it).
 */
describe("PutMetricRows with rows nested without end", () => {
  it("refuses them as the caller's error, naming the row, and writes nothing", async () => {
    const s = localAt(await tempDir(), () => T0);
    const detector = await createDetector(s, OPERATOR, { AnomalyDetectorName: "pushed", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const metricSet = await createMetricSet(s, OPERATOR, {
      AnomalyDetectorArn: detector.AnomalyDetectorArn,
      MetricSetName: "views",
      MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }],
      DimensionList: ["platform"],
      TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
      MetricSource: { HttpPushConfig: {} } as never,
    });
    const deep = "[".repeat(1_000_000) + "]".repeat(1_000_000);
    const arn = JSON.stringify(metricSet.MetricSetArn);
    const bodies = [
      `{"MetricSetArn":${arn},"Rows":[${deep}]}`,
      `{"MetricSetArn":${arn},"Rows":[{"timestamp":"2021-01-04 00:00:00","platform":"web","views":1},{"timestamp":"2021-01-04 00:00:00","platform":${deep},"views":1}]}`,
      `{"MetricSetArn":${arn},"ClientToken":"t1","Rows":[{"timestamp":"2021-01-04 00:00:00","platform":"web","views":${deep}}]}`,
    ];
    for (const body of bodies) {
      const res = await router(s)({ method: "POST", path: "/PutMetricRows", body, requestId: "r", scope: OPERATOR });
      expect(res.status, res.body).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ __type: "ValidationException", Fields: [{ Name: expect.stringMatching(/^Rows/) }] });
    }
    expect(await s.records.list("pushes")).toEqual([]);
    // A flat row that is no object is still taken, and rejected as such.
    const flat = await router(s)({ method: "POST", path: "/PutMetricRows", body: `{"MetricSetArn":${arn},"Rows":[[1,2],{"timestamp":"2021-01-04 00:00:00","platform":"web","views":1}]}`, requestId: "r2", scope: OPERATOR });
    expect(flat.status).toBe(200);
    expect(JSON.parse(flat.body)).toMatchObject({ RowsAccepted: 1, RowsRejected: 1, Rejects: [{ Index: 0, Reason: "MALFORMED_RECORD" }] });
  });
});
