import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { detectMetricSetConfig, getSampleData } from "../../../shared/api/discovery.ts";
import { ValidationException } from "../../../shared/model/errors.ts";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import { tempDir } from "../../builders.ts";

const DETECTOR = "arn:aws:lookoutmetrics:us-east-1:000000000000:AnomalyDetector:shop";
const ROLE = "arn:aws:iam::000000000000:role/vigil";
const csv = ["timestamp,region,revenue", "2024-01-01 00:00:00,eu,10", "2024-01-01 01:00:00,eu,12", "2024-01-01 02:00:00,us,9", ""].join("\n");

async function sourceWith(bytes: Uint8Array | string, name: string) {
  const dir = await tempDir();
  const blobs = new LocalBlobStore();
  await blobs.put(join(dir, "history", name), bytes);
  return { blobs, paths: { HistoricalDataPathList: [join(dir, "history/")] } };
}

describe("discovery", () => {
  it("detects a gzipped sample's format, frequency, measures and dimensions", async () => {
    const { blobs, paths } = await sourceWith(gzipSync(csv), "a.csv.gz");
    const { DetectedMetricSetConfig: d } = await detectMetricSetConfig(blobs, { AnomalyDetectorArn: DETECTOR, AutoDetectionMetricSource: { S3SourceConfig: paths } });
    expect(d.MetricSetFrequency.Value).toEqual({ S: "PT1H" });
    expect(d.MetricSource.S3SourceConfig.FileFormatDescriptor.CsvFormatDescriptor?.FileCompression.Value).toEqual({ S: "GZIP" });
    expect(d.MetricList.Value).toEqual({ SS: ["revenue"] });
    expect(d.DimensionList.Value).toEqual({ SS: ["region"] });
  });

  it("returns the sample's header and rows in the given format", async () => {
    const { blobs, paths } = await sourceWith(csv, "a.csv");
    const sample = await getSampleData(blobs, { S3SourceConfig: { ...paths, RoleArn: ROLE, FileFormatDescriptor: { CsvFormatDescriptor: {} } } });
    expect(sample.HeaderValues).toEqual(["timestamp", "region", "revenue"]);
    expect(sample.SampleRows).toHaveLength(3);
  });

  it("refuses a truncated GZIP sample with a ValidationException that names the file", async () => {
    const { blobs, paths } = await sourceWith(gzipSync(csv).subarray(0, 15), "a.csv.gz");
    const detect = detectMetricSetConfig(blobs, { AnomalyDetectorArn: DETECTOR, AutoDetectionMetricSource: { S3SourceConfig: paths } });
    await expect(detect).rejects.toBeInstanceOf(ValidationException);
    await expect(detect).rejects.toThrow(/a\.csv\.gz cannot be read: not a readable GZIP file/);
    const sample = getSampleData(blobs, { S3SourceConfig: { ...paths, RoleArn: ROLE, FileFormatDescriptor: { CsvFormatDescriptor: { FileCompression: "GZIP" } } } });
    await expect(sample).rejects.toThrow(/a\.csv\.gz cannot be read: unreadable file: not a readable GZIP file/);
  });
});
