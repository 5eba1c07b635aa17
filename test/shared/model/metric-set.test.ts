import { describe, expect, it } from "vitest";
import { ValidationException } from "../../../shared/model/errors.ts";
import { CreateMetricSetRequest } from "../../../shared/model/metric-set.ts";
import { parseOrThrow } from "../../../shared/model/validate.ts";
import { metricSetRequest } from "../../builders.ts";

function fieldsOf(input: unknown): { Name: string; Message: string }[] {
  try {
    parseOrThrow(CreateMetricSetRequest, input, "CreateMetricSet request");
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationException);
    const v = e as ValidationException;
    expect(v.reason).toBe("FIELD_VALIDATION_FAILED");
    return [...v.fields];
  }
  throw new Error("expected a ValidationException");
}

describe("CreateMetricSetRequest", () => {
  it("accepts L4M's getting-started metric set, and a local path in place of an S3 URI", () => {
    expect(parseOrThrow(CreateMetricSetRequest, metricSetRequest(), "x").MetricSetName).toBe("orders");
    const local = metricSetRequest({ MetricSource: { S3SourceConfig: { TemplatedPathList: ["data/live/{{yyyy}}/{{MM}}/{{dd}}/{{HH}}{{mm}}"] } } });
    expect(parseOrThrow(CreateMetricSetRequest, local, "x").MetricSource.S3SourceConfig?.TemplatedPathList).toHaveLength(1);
  });

  it.each([
    ["a bad frequency", { MetricSetFrequency: "PT2H" }, "MetricSetFrequency"],
    ["an offset beyond 432000", { Offset: 432001 }, "Offset"],
    ["a negative offset", { Offset: -1 }, "Offset"],
    ["an unknown aggregation", { MetricList: [{ MetricName: "views", AggregationFunction: "MAX" }] }, "MetricList[0].AggregationFunction"],
    ["no measure", { MetricList: [] }, "MetricList"],
    ["a bad name", { MetricSetName: "-orders" }, "MetricSetName"],
    ["a measure named as every object's own member", { MetricList: [{ MetricName: "constructor", AggregationFunction: "SUM" }] }, "MetricList[0].MetricName"],
    ["a dimension named as every object's own member", { DimensionList: ["toString"] }, "DimensionList[0]"],
    ["a timestamp column named as every object's own member", { TimestampColumn: { ColumnName: "valueOf", ColumnFormat: "yyyy-MM-dd HH:mm:ss" } }, "TimestampColumn.ColumnName"],
    ["an unknown time zone", { Timezone: "Mars/Olympus" }, "Timezone"],
    ["a timestamp pattern luxon would take exponential time on", { TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "dM".repeat(8) } }, "TimestampColumn.ColumnFormat"],
    ["a NUL in a data path", { MetricSource: { S3SourceConfig: { TemplatedPathList: ["s3://shop-metrics/live\u0000/{{yyyyMMdd}}"], FileFormatDescriptor: { CsvFormatDescriptor: {} } } } }, "MetricSource.S3SourceConfig.TemplatedPathList[0]"],
    ["an unknown field", { Colour: "red" }, "(request)"],
  ])("names the field for %s", (_, override, field) => {
    expect(fieldsOf(metricSetRequest(override)).map((f) => f.Name)).toContain(field);
  });

  it("refuses a measure or dimension named 'timestamp' for pushed rows and CloudWatch, whose files name their time so, and takes it from files", () => {
    const ts = { ColumnName: "ts", ColumnFormat: "yyyy-MM-dd HH:mm:ss" };
    const dimension = { TimestampColumn: ts, DimensionList: ["timestamp", "marketplace"], MetricList: [{ MetricName: "views", AggregationFunction: "SUM", Namespace: "Shop" }] };
    const measure = { TimestampColumn: ts, MetricList: [{ MetricName: "views", AggregationFunction: "SUM", Namespace: "Shop" }, { MetricName: "timestamp", AggregationFunction: "SUM", Namespace: "Shop" }] };
    for (const MetricSource of [{ HttpPushConfig: {} }, { CloudWatchConfig: {} }]) {
      expect(fieldsOf(metricSetRequest({ ...dimension, MetricSource }))).toEqual([{ Name: "DimensionList[0]", Message: "'timestamp' names the time of the files Vigil writes for this source: rename the dimension" }]);
      expect(fieldsOf(metricSetRequest({ ...measure, MetricSource }))).toEqual([{ Name: "MetricList[1].MetricName", Message: "'timestamp' names the time of the files Vigil writes for this source: rename the measure" }]);
    }
    expect(CreateMetricSetRequest.safeParse(metricSetRequest(dimension)).success).toBe(true);
    expect(CreateMetricSetRequest.safeParse(metricSetRequest(measure)).success).toBe(true);
    // The timestamp column itself may be so named: it is the files' time.
    expect(CreateMetricSetRequest.safeParse(metricSetRequest({ MetricSource: { HttpPushConfig: {} } })).success).toBe(true);
  });

  it("leaves how many measures and dimensions a metric set may hold to the quotas, and refuses a list past any quota", () => {
    const many = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
    expect(CreateMetricSetRequest.safeParse(metricSetRequest({ MetricList: many("m", 6).map((MetricName) => ({ MetricName, AggregationFunction: "SUM" })), DimensionList: many("d", 6) })).success).toBe(true);
    const fields = fieldsOf(metricSetRequest({ MetricList: many("m", 101).map((MetricName) => ({ MetricName, AggregationFunction: "SUM" })), DimensionList: many("d", 101) }));
    expect(fields.map((f) => f.Name)).toEqual(expect.arrayContaining(["MetricList", "DimensionList"]));
  });

  it("refuses a column used twice and a filter on an unknown dimension, naming both", () => {
    const fields = fieldsOf(metricSetRequest({ DimensionList: ["platform", "views"], DimensionFilterList: [{ Name: "country", FilterList: [{ DimensionValue: "de" }] }] }));
    expect(fields).toEqual([
      { Name: "DimensionList[1]", Message: "'views' is also a measure" },
      { Name: "DimensionFilterList[0].Name", Message: "'country' is not in DimensionList" },
    ]);
  });

  it("refuses an unknown placeholder and a URI of another scheme", () => {
    const fields = fieldsOf(metricSetRequest({ MetricSource: { S3SourceConfig: { TemplatedPathList: ["s3://bucket/live/{{yyyyMMddHH}}"], HistoricalDataPathList: ["https://example.com/x"] } } }));
    expect(fields).toEqual([
      { Name: "MetricSource.S3SourceConfig.TemplatedPathList[0]", Message: expect.stringContaining("unknown placeholder {{yyyyMMddHH}}") },
      { Name: "MetricSource.S3SourceConfig.HistoricalDataPathList[0]", Message: "must be an s3:// URI or a local path" },
    ]);
  });

  it("refuses the sources Vigil does not read, saying so", () => {
    const fields = fieldsOf(metricSetRequest({ MetricSource: { RDSSourceConfig: { DatabaseHost: "db" } } }));
    expect(fields).toContainEqual({ Name: "MetricSource.RDSSourceConfig", Message: expect.stringContaining("does not read RDSSourceConfig") });
  });

  it("needs a header list when the CSV has no header, holding every column", () => {
    const noHeader = (HeaderList?: string[]) =>
      metricSetRequest({ MetricSource: { S3SourceConfig: { TemplatedPathList: ["s3://bucket/{{yyyyMMdd}}"], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: false, ...(HeaderList ? { HeaderList } : {}) } } } } });
    expect(fieldsOf(noHeader()).map((f) => f.Name)).toContain("MetricSource.S3SourceConfig.FileFormatDescriptor.CsvFormatDescriptor.HeaderList");
    expect(fieldsOf(noHeader(["timestamp", "platform", "views", "revenue"]))).toContainEqual(expect.objectContaining({ Message: "lacks column 'marketplace'" }));
    // A column the metric set does not use may be named anything a name may be, even as every object's own member.
    expect(CreateMetricSetRequest.safeParse(noHeader(["timestamp", "platform", "marketplace", "views", "revenue", "valueOf"])).success).toBe(true);
  });

  it("needs exactly one file format", () => {
    const both = metricSetRequest({ MetricSource: { S3SourceConfig: { TemplatedPathList: ["s3://bucket/x"], FileFormatDescriptor: { CsvFormatDescriptor: {}, JsonFormatDescriptor: {} } } } });
    expect(fieldsOf(both).map((f) => f.Name)).toContain("MetricSource.S3SourceConfig.FileFormatDescriptor");
  });
});
