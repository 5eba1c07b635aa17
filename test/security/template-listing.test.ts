import { mkdir, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import { CreateAnomalyDetectorCommand, CreateMetricSetCommand, DetectMetricSetConfigCommand, GetSampleDataCommand, LookoutMetricsClient, ValidationException } from "@aws-sdk/client-lookoutmetrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantsFromConfig, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, serve } from "../../cli/serve.ts";
import { getSampleData, OPERATOR } from "../../shared/app/index.ts";
import { GetSampleDataRequest } from "../../shared/model/discovery.ts";
import { readHistory } from "../../shared/detect/read-files.ts";
import { LocalBlobStore } from "../../shared/store/local-blobs.ts";
import { csvOf, readableMetricSet, shopPoints, T0, tempDir, localAt } from "../builders.ts";

const ROLE = "arn:aws:iam::000000000000:role/r";
const CSV = { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } };

/** The refusal a call ends with: its type and the fields it names. */
async function refusal(p: Promise<unknown>): Promise<{ type: string; fields: string[] }> {
  try {
    await p;
    return { type: "none", fields: [] };
  } catch (e) {
    const fields = ((e as { Fields?: { Name?: string }[] }).Fields ?? []).map((f) => f.Name ?? "");
    return { type: e instanceof ValidationException ? "ValidationException" : String((e as Error).name), fields };
  }
}

describe("a template or path with no fixed prefix, through the L4M API", () => {
  let server: Server;
  let l4m: LookoutMetricsClient;
  let AnomalyDetectorArn: string;
  beforeAll(async () => {
    const dataDir = join(await tempDir(), "vigil");
    const started = await serve({ port: 0, services: localAt(dataDir, Date.now), tenants: await tenantsFromConfig({ dataDir }) });
    server = started.server;
    l4m = new LookoutMetricsClient({ endpoint: started.url, region: "us-east-1", credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }, maxAttempts: 1 });
    ({ AnomalyDetectorArn: AnomalyDetectorArn! } = await l4m.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "d", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } })) as { AnomalyDetectorArn: string });
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each(["/{{yyyyMMdd}}/{{HHmm}}", "{{yyyyMMdd}}/{{HHmm}}", "file:///{{yyyy}}/{{MM}}", "/../{{yyyyMMdd}}", "./x{{HH}}"])("refuses the template %s with a ValidationException naming the field, reading nothing", async (template) => {
    expect(await refusal(l4m.send(new GetSampleDataCommand({ S3SourceConfig: { RoleArn: ROLE, TemplatedPathList: [template], FileFormatDescriptor: CSV } })))).toEqual({ type: "ValidationException", fields: ["S3SourceConfig.TemplatedPathList[0]"] });
    expect(await refusal(l4m.send(new DetectMetricSetConfigCommand({ AnomalyDetectorArn, AutoDetectionMetricSource: { S3SourceConfig: { TemplatedPathList: [template] } } })))).toEqual({ type: "ValidationException", fields: ["AutoDetectionMetricSource.S3SourceConfig.TemplatedPathList[0]"] });
    const metricSet = { AnomalyDetectorArn, MetricSetName: "m", MetricList: [{ MetricName: "views", AggregationFunction: "SUM" as const }], TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" }, MetricSetFrequency: "PT1H" as const };
    expect(await refusal(l4m.send(new CreateMetricSetCommand({ ...metricSet, MetricSource: { S3SourceConfig: { RoleArn: ROLE, TemplatedPathList: [template], FileFormatDescriptor: CSV } } })))).toMatchObject({ type: "ValidationException", fields: ["MetricSource.S3SourceConfig.TemplatedPathList[0]"] });
  });

  it("refuses a historical path that is the root of the file system", async () => {
    for (const path of ["/", "/..", "file:///"]) {
      expect(await refusal(l4m.send(new GetSampleDataCommand({ S3SourceConfig: { RoleArn: ROLE, HistoricalDataPathList: [path], FileFormatDescriptor: CSV } })))).toEqual({ type: "ValidationException", fields: ["S3SourceConfig.HistoricalDataPathList[0]"] });
    }
  });
});

describe("listing a prefix is bounded in entries and depth", () => {
  const limits = { maxEntries: 50, maxDepth: 3 };

  it("lists up to the bound, and refuses past it with an error that names the prefix", async () => {
    const dir = await tempDir();
    for (let i = 0; i < 50; i++) await writeFile(join(dir, `f${String(i).padStart(2, "0")}.csv`), "x");
    expect(await new LocalBlobStore(limits).list(dir)).toHaveLength(50);
    await writeFile(join(dir, "one-more.csv"), "x");
    await expect(new LocalBlobStore(limits).list(dir)).rejects.toThrow(new RegExp(`Listing ${dir} stopped: it holds more than 50 files and folders; name a narrower folder`));

    const deep = await tempDir();
    await mkdir(join(deep, "a", "b", "c"), { recursive: true });
    await writeFile(join(deep, "a", "b", "c", "x.csv"), "x");
    expect(await new LocalBlobStore(limits).list(deep)).toEqual([join(deep, "a", "b", "c", "x.csv")]);
    await mkdir(join(deep, "a", "b", "c", "d"));
    await expect(new LocalBlobStore(limits).list(deep)).rejects.toThrow(/nest more than 3 deep/);
  });

  it("GetSampleData names the field whose folder is too large; detection's read stops with the same clear error", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "000.csv"), csvOf(shopPoints(T0, 2, [{ platform: "web", marketplace: "de", base: 10 }])));
    for (let i = 1; i <= 60; i++) await writeFile(join(dir, `${String(i).padStart(3, "0")}.csv`), "x");
    const blobs = new LocalBlobStore(limits);
    // The operator's own reads (no data roots) go through this listing's bounds.
    const services = { ...localAt(await tempDir()), dataFiles: () => ({ get: (uri: string) => blobs.get(uri), read: (uri: string) => blobs.read(uri), list: (prefix: string) => blobs.list(prefix), check: async () => {} }) };
    const request = GetSampleDataRequest.parse({ S3SourceConfig: { RoleArn: ROLE, HistoricalDataPathList: [dir], FileFormatDescriptor: CSV } });
    await expect(getSampleData(services, OPERATOR, request)).rejects.toMatchObject({ code: "ValidationException", fields: [{ Name: "S3SourceConfig.HistoricalDataPathList[0]", Message: "names a folder too large to list" }] });
    await expect(readHistory(blobs, readableMetricSet({ MetricSource: { S3SourceConfig: { HistoricalDataPathList: [dir] } } }))).rejects.toThrow(/stopped: it holds more than 50 files and folders/);
  });
});
