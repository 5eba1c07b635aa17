import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createDetector, detectMetricSetConfig, getSampleData, OPERATOR } from "../../../shared/app/index.ts";
import { ValidationException } from "../../../shared/model/errors.ts";
import { localAt, tempDir } from "../../builders.ts";

const ROLE = "arn:aws:iam::000000000000:role/vigil";
const csv = ["timestamp,region,revenue", "2024-01-01 00:00:00,eu,10", "2024-01-01 01:00:00,eu,12", "2024-01-01 02:00:00,us,9", ""].join("\n");

/** A detector, and one sample file under a folder. */
async function sourceWith(bytes: Uint8Array | string, name: string) {
  const dir = await tempDir();
  const services = localAt(join(dir, "vigil"));
  await services.blobs.put(join(dir, "history", name), bytes);
  const detector = await createDetector(services, OPERATOR, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
  return { services, detector: detector.AnomalyDetectorArn, paths: { HistoricalDataPathList: [join(dir, "history/")] } };
}

describe("discovery", () => {
  it("detects a gzipped sample's format, frequency, measures and dimensions", async () => {
    const { services, detector, paths } = await sourceWith(gzipSync(csv), "a.csv.gz");
    const d = await detectMetricSetConfig(services, OPERATOR, { AnomalyDetectorArn: detector, AutoDetectionMetricSource: { S3SourceConfig: paths } });
    expect(d.frequency.value).toBe("PT1H");
    expect(d.compression.value).toBe("GZIP");
    expect(d.measures.value).toEqual(["revenue"]);
    expect(d.dimensions.value).toEqual(["region"]);
  });

  it("returns the sample's header and rows in the given format", async () => {
    const { services, detector, paths } = await sourceWith(csv, "a.csv");
    const sample = await getSampleData(services, OPERATOR, { S3SourceConfig: { ...paths, RoleArn: ROLE, FileFormatDescriptor: { CsvFormatDescriptor: {} } } });
    expect(sample.HeaderValues).toEqual(["timestamp", "region", "revenue"]);
    expect(sample.SampleRows).toHaveLength(3);
  });

  it("refuses a truncated GZIP sample with a ValidationException that names the file", async () => {
    const { services, detector, paths } = await sourceWith(gzipSync(csv).subarray(0, 15), "a.csv.gz");
    const detect = detectMetricSetConfig(services, OPERATOR, { AnomalyDetectorArn: detector, AutoDetectionMetricSource: { S3SourceConfig: paths } });
    await expect(detect).rejects.toBeInstanceOf(ValidationException);
    await expect(detect).rejects.toThrow(/a\.csv\.gz cannot be read: not a readable GZIP file/);
    const sample = getSampleData(services, OPERATOR, { S3SourceConfig: { ...paths, RoleArn: ROLE, FileFormatDescriptor: { CsvFormatDescriptor: { FileCompression: "GZIP" } } } });
    await expect(sample).rejects.toThrow(/a\.csv\.gz cannot be read: unreadable file: not a readable GZIP file/);
  });
});
