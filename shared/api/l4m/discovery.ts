import { detectMetricSetConfig, getSampleData, type Guess } from "../../app/index.ts";
import { DetectMetricSetConfigRequest, GetSampleDataRequest } from "../../model/discovery.ts";
import { op } from "./operation.ts";

/** L4M's DetectedField: a value in DynamoDB-like attribute form, with a confidence. */
const field = <T>(g: Guess<T>, toValue: (v: T) => Record<string, unknown>) => ({ ...(g.value !== undefined ? { Value: toValue(g.value) } : {}), Confidence: g.confidence, ...(g.message ? { Message: g.message } : {}) });
const S = (v: string | boolean) => ({ S: String(v) });

export const discoveryOperations = {
  DetectMetricSetConfig: op(
    DetectMetricSetConfigRequest,
    (s, req, { scope }) => detectMetricSetConfig(s, scope, req),
    (g) => {
      const common = { FileCompression: field(g.compression, S), Charset: { Value: { S: "utf-8" }, Confidence: "HIGH" } };
      const format = g.format.JsonFormatDescriptor
        ? { JsonFormatDescriptor: common }
        : { CsvFormatDescriptor: { ...common, ContainsHeader: field(g.containsHeader, S), Delimiter: field(g.delimiter, S), HeaderList: field(g.header, (v) => ({ SS: v })), QuoteSymbol: { Value: { S: '"' }, Confidence: "HIGH" } } };
      return {
        DetectedMetricSetConfig: {
          Offset: { Value: { N: "0" }, Confidence: "LOW", Message: "no delay is seen in one file; set Offset to how late your files arrive" },
          MetricSetFrequency: field(g.frequency, S),
          MetricSource: { S3SourceConfig: { FileFormatDescriptor: format } },
          // Vigil's additions, beside L4M's fields.
          TimestampColumn: field(g.timestampColumn, (v) => v),
          MetricList: field(g.measures, (v) => ({ SS: v })),
          DimensionList: field(g.dimensions, (v) => ({ SS: v })),
        },
      };
    },
  ),
  GetSampleData: op(GetSampleDataRequest, (s, req, { scope }) => getSampleData(s, scope, req)),
};
