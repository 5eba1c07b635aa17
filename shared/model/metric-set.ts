import * as z from "./zod.ts";
import { templateProblem } from "./path-template.ts";
import { timestampFormatProblem } from "./timestamp-format.ts";
import { Frequency } from "./frequency.ts";
import { ValidationException } from "./errors.ts";
import { arnAccount, type AnomalyDetectorArn, type MetricSetArn } from "./ids.ts";
import { Arn, ColumnName, Description, ResourceName, Tags, Timezone, uniqueNames } from "./shapes.ts";
import { onFirstUse } from "./first-use.ts";

/**
 * How many measures or dimensions a request may list at all; how many a metric set may
 * hold is a quota (model/quotas.ts), refused with ServiceQuotaExceededException as L4M did.
 */
const MAX_LISTED = 100;
/** Columns a CSV file's HeaderList names, used or not. */
const MAX_COLUMNS = 1_000;
/** A dimension value a filter names: as long as a silence's. */
const MAX_VALUE_LENGTH = 1024;
/** Values one dimension's filter lists, and characters of values all a metric set's filters hold. */
const MAX_FILTER_VALUES = 1_000;
const MAX_FILTER_CHARACTERS = 65_536;

/** The timestamp column of the canonical files written for a source that is not files (CloudWatch, pushed rows): no measure or dimension of such a metric set may take its name. */
export const CANONICAL_TIMESTAMP_COLUMN = "timestamp";

/** Built on first use: a function that parses none of these requests builds none of them (see onFirstUse). */
const schemas = onFirstUse(() => {
  const Charset = z.string().check(
    z.maxLength(63),
    z.refine((c) => {
      try {
        new TextDecoder(c);
        return true;
      } catch {
        return false;
      }
    }, "is not a known character set (e.g. UTF-8, ISO-8859-1)"),
  );

  const CsvFormatDescriptor = z.strictObject({
    FileCompression: z.optional(z.enum(["NONE", "GZIP"])),
    Charset: z.optional(Charset),
    ContainsHeader: z.optional(z.boolean()),
    Delimiter: z.optional(z.string().check(z.length(1, "must be one character"), z.regex(/^[^\r\n]$/, "must not be a line break"))),
    // Every column of the file, used or not: a column the metric set does not use may be named anything.
    HeaderList: z.optional(z.array(ResourceName).check(z.minLength(1), z.maxLength(MAX_COLUMNS, `must hold at most ${MAX_COLUMNS} columns`))),
    QuoteSymbol: z.optional(z.string().check(z.maxLength(1, "must be at most one character"), z.regex(/^[^\r\n]?$/, "must not be a line break"))),
  });

  const JsonFormatDescriptor = z.strictObject({
    FileCompression: z.optional(z.enum(["NONE", "GZIP"])),
    Charset: z.optional(Charset),
  });

  const FileFormatDescriptor = z
    .strictObject({ CsvFormatDescriptor: z.optional(CsvFormatDescriptor), JsonFormatDescriptor: z.optional(JsonFormatDescriptor) })
    .check(z.refine((f) => (f.CsvFormatDescriptor ? 1 : 0) + (f.JsonFormatDescriptor ? 1 : 0) === 1, "must hold exactly one of CsvFormatDescriptor and JsonFormatDescriptor"));

  /** An `s3://` URI as L4M allows it, or — in Vigil's local mode — a path on local disk. */
  const DataPath = z.string().check(
    z.minLength(1),
    z.maxLength(1024),
    z.superRefine((p, ctx) => {
      const problem = templateProblem(p);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  );

  const S3SourceConfig = z.strictObject({
    RoleArn: z.optional(Arn),
    TemplatedPathList: z.optional(z.array(DataPath).check(z.length(1, "must hold exactly one path"))),
    HistoricalDataPathList: z.optional(z.array(DataPath).check(z.length(1, "must hold exactly one path"))),
    FileFormatDescriptor: z.optional(FileFormatDescriptor),
  });

  const CloudWatchConfig = z.strictObject({
    RoleArn: z.optional(Arn),
    BackTestConfiguration: z.optional(z.strictObject({ RunBackTestMode: z.boolean() })),
  });

  /** Sources L4M had that Vigil does not read: refused with a message that says so. */
  /** Vigil's own source: rows POSTed to the API (`PutMetricRows`), written by ingest into canonical files. */
  const HttpPushConfig = z.strictObject({});

  const UNSUPPORTED_SOURCES = ["AppFlowConfig", "RDSSourceConfig", "RedshiftSourceConfig", "AthenaSourceConfig"] as const;

  const MetricSource = z
    .strictObject({
      S3SourceConfig: z.optional(S3SourceConfig),
      CloudWatchConfig: z.optional(CloudWatchConfig),
      HttpPushConfig: z.optional(HttpPushConfig),
      ...Object.fromEntries(UNSUPPORTED_SOURCES.map((k) => [k, z.optional(z.unknown())])),
    })
    .check(
      z.superRefine((source, ctx) => {
        const given = Object.keys(source).filter((k) => source[k as keyof typeof source] !== undefined);
        for (const k of given.filter((k) => (UNSUPPORTED_SOURCES as readonly string[]).includes(k))) {
          ctx.addIssue({ code: "custom", path: [k], message: `Vigil does not read ${k} sources; use S3SourceConfig, CloudWatchConfig or HttpPushConfig` });
        }
        if (given.length !== 1) ctx.addIssue({ code: "custom", message: "must hold exactly one source" });
      }),
    );

  const Metric = z.strictObject({
    MetricName: ColumnName,
    AggregationFunction: z.enum(["SUM", "AVG"]),
    Namespace: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  });

  const TimestampColumn = z.strictObject({
    ColumnName: z.optional(ColumnName),
    ColumnFormat: z.optional(
      z.string().check(
        z.maxLength(63),
        z.regex(/\S/, "must not be blank"),
        z.superRefine((f, ctx) => {
          const problem = timestampFormatProblem(f);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
      ),
    ),
  });

  const MetricSetDimensionFilter = z.strictObject({
    Name: ColumnName,
    FilterList: z
      .array(z.strictObject({ DimensionValue: z.string().check(z.maxLength(MAX_VALUE_LENGTH)), FilterOperation: z.optional(z.literal("EQUALS")) }))
      .check(z.minLength(1), z.maxLength(MAX_FILTER_VALUES, `must hold at most ${MAX_FILTER_VALUES} values`)),
  });

  /** A metric set's filters, bounded in all: its record is read by every listing and detection run, and a DynamoDB item holds 400 KB. */
  const DimensionFilterList = z.array(MetricSetDimensionFilter).check(
    z.maxLength(MAX_LISTED, `must hold at most ${MAX_LISTED} filters`),
    z.refine((filters) => filters.reduce((n, f) => n + f.FilterList.reduce((m, v) => m + v.DimensionValue.length, 0), 0) <= MAX_FILTER_CHARACTERS, `must hold at most ${MAX_FILTER_CHARACTERS} characters of values in all`),
  );

  const metricSetFields = {
    AnomalyDetectorArn: Arn,
    MetricSetName: ResourceName,
    MetricSetDescription: z.optional(Description),
    MetricList: z.array(Metric).check(z.minLength(1), z.maxLength(MAX_LISTED, `must hold at most ${MAX_LISTED} measures`)),
    Offset: z.optional(z.int().check(z.minimum(0), z.maximum(432000))),
    TimestampColumn: z.optional(TimestampColumn),
    DimensionList: z.optional(z.array(ColumnName).check(z.minLength(1), z.maxLength(MAX_LISTED, `must hold at most ${MAX_LISTED} dimensions`))),
    MetricSetFrequency: z.optional(Frequency),
    MetricSource,
    Timezone: z.optional(Timezone),
    Tags: z.optional(Tags),
    DimensionFilterList: z.optional(DimensionFilterList),
  };

  const CreateMetricSetRequest = z.strictObject(metricSetFields).check(z.superRefine((req, ctx) => {
    const measures = req.MetricList.map((m) => m.MetricName);
    const dimensions = req.DimensionList ?? [];
    uniqueNames(measures, ctx, ["MetricList"], "measure");
    uniqueNames(dimensions, ctx, ["DimensionList"], "dimension");
    dimensions.forEach((d, i) => {
      if (measures.includes(d)) ctx.addIssue({ code: "custom", path: ["DimensionList", i], message: `'${d}' is also a measure` });
    });
    const ts = req.TimestampColumn?.ColumnName;
    if (ts && (measures.includes(ts) || dimensions.includes(ts))) {
      ctx.addIssue({ code: "custom", path: ["TimestampColumn", "ColumnName"], message: `'${ts}' is also a measure or dimension` });
    }
    req.DimensionFilterList?.forEach((f, i) => {
      if (!dimensions.includes(f.Name)) ctx.addIssue({ code: "custom", path: ["DimensionFilterList", i, "Name"], message: `'${f.Name}' is not in DimensionList` });
    });
    const s3 = req.MetricSource.S3SourceConfig;
    if (s3) checkS3Source(s3, [...measures, ...dimensions, ...(ts ? [ts] : [])], ts, ctx);
    // Rows of any other source are written to canonical files (ingest/canonical.ts), whose time is the column CANONICAL_TIMESTAMP_COLUMN: a measure or dimension of that name would be read as the time, and every row refused.
    if (!s3) {
      measures.forEach((m, i) => m === CANONICAL_TIMESTAMP_COLUMN && ctx.addIssue({ code: "custom", path: ["MetricList", i, "MetricName"], message: `'${m}' names the time of the files Vigil writes for this source: rename the measure` }));
      dimensions.forEach((d, i) => d === CANONICAL_TIMESTAMP_COLUMN && ctx.addIssue({ code: "custom", path: ["DimensionList", i], message: `'${d}' names the time of the files Vigil writes for this source: rename the dimension` }));
    }
    if (req.MetricSource.HttpPushConfig && !ts) ctx.addIssue({ code: "custom", path: ["TimestampColumn", "ColumnName"], message: "is required for pushed rows: it names their timestamp field" });
    if (req.MetricSource.CloudWatchConfig) {
      req.MetricList.forEach((m, i) => {
        if (!m.Namespace) ctx.addIssue({ code: "custom", path: ["MetricList", i, "Namespace"], message: "is required for a CloudWatch source (e.g. AWS/EC2)" });
      });
    }
  }));

  function checkS3Source(s3: S3SourceConfig, columns: string[], ts: string | undefined, ctx: z.RefinementCtx): void {
    const at = ["MetricSource", "S3SourceConfig"];
    if (!s3.TemplatedPathList && !s3.HistoricalDataPathList) {
      ctx.addIssue({ code: "custom", path: at, message: "must give TemplatedPathList or HistoricalDataPathList" });
    }
    if (!ts) ctx.addIssue({ code: "custom", path: ["TimestampColumn", "ColumnName"], message: "is required for an S3 source" });
    const csv = s3.FileFormatDescriptor?.CsvFormatDescriptor;
    if (csv?.ContainsHeader === false && !csv.HeaderList) {
      ctx.addIssue({ code: "custom", path: [...at, "FileFormatDescriptor", "CsvFormatDescriptor", "HeaderList"], message: "is required when ContainsHeader is false" });
    }
    if (csv?.HeaderList) {
      for (const c of columns.filter((c) => !csv.HeaderList?.includes(c))) {
        ctx.addIssue({ code: "custom", path: [...at, "FileFormatDescriptor", "CsvFormatDescriptor", "HeaderList"], message: `lacks column '${c}'` });
      }
    }
  }

  /** L4M's UpdateMetricSet: the fields that may change; the whole is checked again as a CreateMetricSet. */
  const UpdateMetricSetRequest = z.strictObject({
    MetricSetArn: Arn,
    MetricSetDescription: z.optional(Description),
    MetricList: z.optional(z.array(Metric).check(z.minLength(1), z.maxLength(MAX_LISTED))),
    Offset: z.optional(z.int().check(z.minimum(0), z.maximum(432000))),
    TimestampColumn: z.optional(TimestampColumn),
    DimensionList: z.optional(z.array(ColumnName).check(z.minLength(1), z.maxLength(MAX_LISTED))),
    MetricSetFrequency: z.optional(Frequency),
    MetricSource: z.optional(MetricSource),
    DimensionFilterList: z.optional(DimensionFilterList),
  });
  return { CsvFormatDescriptor, JsonFormatDescriptor, FileFormatDescriptor, DataPath, S3SourceConfig, CloudWatchConfig, HttpPushConfig, MetricSource, Metric, TimestampColumn, MetricSetDimensionFilter, CreateMetricSetRequest, UpdateMetricSetRequest };
});

export const CsvFormatDescriptor = z.lazy(() => schemas().CsvFormatDescriptor);
export const JsonFormatDescriptor = z.lazy(() => schemas().JsonFormatDescriptor);
export const FileFormatDescriptor = z.lazy(() => schemas().FileFormatDescriptor);
export const DataPath = z.lazy(() => schemas().DataPath);
export const S3SourceConfig = z.lazy(() => schemas().S3SourceConfig);
export const CloudWatchConfig = z.lazy(() => schemas().CloudWatchConfig);
export const HttpPushConfig = z.lazy(() => schemas().HttpPushConfig);
export const MetricSource = z.lazy(() => schemas().MetricSource);
export const Metric = z.lazy(() => schemas().Metric);
export const TimestampColumn = z.lazy(() => schemas().TimestampColumn);
export const MetricSetDimensionFilter = z.lazy(() => schemas().MetricSetDimensionFilter);
export const CreateMetricSetRequest = z.lazy(() => schemas().CreateMetricSetRequest);
export const UpdateMetricSetRequest = z.lazy(() => schemas().UpdateMetricSetRequest);
export type CsvFormatDescriptor = z.infer<typeof CsvFormatDescriptor>;
export type JsonFormatDescriptor = z.infer<typeof JsonFormatDescriptor>;
export type FileFormatDescriptor = z.infer<typeof FileFormatDescriptor>;
export type S3SourceConfig = z.infer<typeof S3SourceConfig>;
export type Metric = z.infer<typeof Metric>;
export type TimestampColumn = z.infer<typeof TimestampColumn>;
export type MetricSetDimensionFilter = z.infer<typeof MetricSetDimensionFilter>;
export type CreateMetricSetRequest = z.infer<typeof CreateMetricSetRequest>;
export type MetricSource = { S3SourceConfig?: S3SourceConfig; CloudWatchConfig?: z.infer<typeof CloudWatchConfig>; HttpPushConfig?: z.infer<typeof HttpPushConfig> };

/** A metric set as stored: the request with its ARN, its resolved frequency and times. */
export interface MetricSet extends CreateMetricSetRequest {
  readonly AnomalyDetectorArn: AnomalyDetectorArn;
  readonly MetricSetArn: MetricSetArn;
  readonly MetricSetFrequency: Frequency;
  readonly CreationTime: string;
  readonly LastModificationTime: string;
}

/**
 * Refuses a source's RoleArn outside the account it reads for, as an alert action's is
 * refused (model/alert.ts): Vigil assumes the role with that account as its ExternalId, so
 * another account's role whose trust policy forgot the condition would admit the wrong
 * tenant. `field` names the RoleArn in the request. Checked again when the role is assumed.
 */
export function ownRoleOnly(roleArn: string | undefined, accountId: string, field: string): void {
  if (roleArn === undefined || arnAccount(roleArn) === accountId) return;
  throw new ValidationException(`The source names the role ${roleArn}, which is not in this account (${accountId}): Vigil reads a source only as a role of the account it reads for`, {
    fields: [{ Name: field, Message: `is in account ${arnAccount(roleArn) || "(none)"}, not ${accountId}` }],
  });
}

/** A metric set's source names only roles of its own account (ownRoleOnly). */
export function ownSourceRolesOnly(source: MetricSource | undefined, accountId: string): void {
  ownRoleOnly(source?.S3SourceConfig?.RoleArn, accountId, "MetricSource.S3SourceConfig.RoleArn");
  ownRoleOnly(source?.CloudWatchConfig?.RoleArn, accountId, "MetricSource.CloudWatchConfig.RoleArn");
}

export const measuresOf = (m: Pick<CreateMetricSetRequest, "MetricList">) => m.MetricList.map((x) => x.MetricName);
export const dimensionsOf = (m: Pick<CreateMetricSetRequest, "DimensionList">) => m.DimensionList ?? [];
