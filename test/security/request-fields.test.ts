import { describe, expect, it } from "vitest";
import { createDetector, OPERATOR } from "../../shared/app/index.ts";
import { router } from "../../shared/api/router.ts";
import { localAt, T0, tempDir } from "../builders.ts";

/**
 * Every list and string of a request is bounded before it is kept or read further: a record of
 * megabytes would be read again by every listing and detection run (and be past a DynamoDB
 * item's 400 KB), and a string past its bound is not read by the checks behind the bound.
 */
async function api() {
  const s = localAt(await tempDir(), () => T0);
  const call = async (name: string, body: unknown) => {
    const res = await router(s)({ method: "POST", path: `/${name}`, body: JSON.stringify(body), requestId: "r", scope: OPERATOR });
    return { status: res.status, ...(JSON.parse(res.body) as { __type?: string; Message?: string }) };
  };
  const detector = await createDetector(s, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  const metricSet = (name: string, more: Record<string, unknown>) => ({
    AnomalyDetectorArn: detector.AnomalyDetectorArn,
    MetricSetName: name,
    MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }],
    DimensionList: ["platform", "marketplace"],
    TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
    MetricSource: { HttpPushConfig: {} },
    ...more,
  });
  return { call, detector, metricSet };
}

const values = (n: number, length: number) => Array.from({ length: n }, (_, i) => ({ DimensionValue: String(i).padStart(length, "v") }));

describe("a metric set's filters", () => {
  it("are refused past 1,000 values a dimension, 1,024 characters a value, or 65,536 characters in all, naming the bound", async () => {
    const { call, metricSet } = await api();
    const refused = [
      await call("CreateMetricSet", metricSet("many", { DimensionFilterList: [{ Name: "platform", FilterList: values(1_001, 4) }] })),
      await call("CreateMetricSet", metricSet("long", { DimensionFilterList: [{ Name: "platform", FilterList: values(1, 1_025) }] })),
      await call("CreateMetricSet", metricSet("all", { DimensionFilterList: [{ Name: "platform", FilterList: values(40, 1_000) }, { Name: "marketplace", FilterList: values(40, 1_000) }] })),
    ];
    expect(refused.map((r) => [r.status, r.__type])).toEqual(Array(3).fill([400, "ValidationException"]));
    expect(refused.map((r) => r.Message)).toEqual([expect.stringMatching(/at most 1000 values/), expect.stringMatching(/<=1024 characters/), expect.stringMatching(/at most 65536 characters of values in all/)]);
    // At the bounds, taken.
    expect((await call("CreateMetricSet", metricSet("bounded", { DimensionFilterList: [{ Name: "platform", FilterList: values(1_000, 4) }, { Name: "marketplace", FilterList: values(20, 1_024) }] }))).status).toBe(200);
  });

  it("and a CSV's HeaderList are refused past 1,000 columns", async () => {
    const { call, metricSet } = await api();
    const csv = (columns: number) => ({ S3SourceConfig: { HistoricalDataPathList: ["s3://b/history/"], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: false, HeaderList: ["timestamp", "platform", "marketplace", "views", ...Array.from({ length: columns - 4 }, (_, i) => `c${i}`)] } } } });
    const over = await call("CreateMetricSet", metricSet("wide", { MetricSource: csv(1_001) }));
    expect([over.status, over.Message]).toEqual([400, expect.stringMatching(/HeaderList must hold at most 1000 columns/)]);
  });
});

describe("an alert's filter values", () => {
  it("are refused past 1,024 characters", async () => {
    const { call, detector } = await api();
    const alert = (value: string) => ({ AlertName: "hook", AnomalyDetectorArn: detector.AnomalyDetectorArn, Action: { WebhookConfiguration: { Url: "https://example.com/hook" } }, AlertFilters: { DimensionFilterList: [{ DimensionName: "platform", DimensionValueList: [value] }] } });
    expect(await call("CreateAlert", alert("y".repeat(1_025)))).toMatchObject({ status: 400, __type: "ValidationException" });
  });
});

describe("a string past its bound", () => {
  it("is refused for its length alone: an ARN built to make its pattern backtrack, a timestamp format of 150,000 characters", async () => {
    const { call, metricSet } = await api();
    const arn = await call("DescribeAnomalyDetector", { AnomalyDetectorArn: `arn:a:${":".repeat(500)}\n` });
    expect([arn.status, arn.Message]).toEqual([400, "Invalid DescribeAnomalyDetector request: AnomalyDetectorArn Too big: expected string to have <=256 characters"]);
    const format = await call("CreateMetricSet", metricSet("format", { TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "d".repeat(150_000) } }));
    expect([format.status, format.Message]).toEqual([400, "Invalid CreateMetricSet request: TimestampColumn.ColumnFormat Too big: expected string to have <=63 characters"]);
  });
});
