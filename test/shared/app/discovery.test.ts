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
    await expect(sample).rejects.toThrow(/a\.csv\.gz cannot be read: not a readable GZIP file/);
  });

  describe("a sample far larger than a sample needs", () => {
    const line = "2024-01-01 00:00:00,eu,10\n";
    /** 1 GiB of rows from a 1 MB file: GZIP members of 1 MiB each, one after another (a reader inflates them all as one file). */
    const bomb = () => {
      const member = gzipSync(Buffer.concat([Buffer.from("timestamp,region,revenue\n"), Buffer.alloc(1024 * 1024 - 25, line)]), { level: 9 });
      const more = gzipSync(Buffer.alloc(1024 * 1024, line), { level: 9 });
      return Buffer.concat([member, ...Array.from({ length: 1023 }, () => more)]);
    };

    /** The services, with the bytes their data files gave counted, file by file. */
    async function counted(bytes: Uint8Array, name: string) {
      const source = await sourceWith(bytes, name);
      const given = { bytes: 0, wholeFiles: 0 };
      const services = {
        ...source.services,
        dataFiles: (grant: Parameters<typeof source.services.dataFiles>[0]) => {
          const files = source.services.dataFiles(grant);
          return {
            ...files,
            list: (p: string) => files.list(p),
            check: (p: string) => files.check(p),
            get: async (uri: string) => {
              given.wholeFiles++;
              return files.get(uri);
            },
            read: async (uri: string) => {
              const chunks = await files.read(uri);
              return (
                chunks &&
                (async function* () {
                  for await (const c of chunks) {
                    given.bytes += c.length;
                    yield c;
                  }
                })()
              );
            },
          };
        },
      };
      return { ...source, services, given };
    }

    it("answers GetSampleData and DetectMetricSetConfig from the file's start, reading a little of it and inflating no more than the limits", async () => {
      const gz = bomb();
      const { services, detector, paths, given } = await counted(gz, "bomb.csv.gz");
      const sample = await getSampleData(services, OPERATOR, { S3SourceConfig: { ...paths, RoleArn: ROLE, FileFormatDescriptor: { CsvFormatDescriptor: { FileCompression: "GZIP" } } } });
      expect(sample.HeaderValues).toEqual(["timestamp", "region", "revenue"]);
      expect(sample.SampleRows).toHaveLength(10);
      const d = await detectMetricSetConfig(services, OPERATOR, { AnomalyDetectorArn: detector, AutoDetectionMetricSource: { S3SourceConfig: paths } });
      expect([d.compression.value, d.measures.value, d.dimensions.value]).toEqual(["GZIP", ["revenue"], ["region"]]);
      // Neither read the file whole: a few of Node's 64 KiB pieces each, of a 1 MB file.
      expect(given.wholeFiles).toBe(0);
      expect(given.bytes).toBeLessThan(gz.length / 2);
    });

    it("refuses a sample whose first line is longer than it reads, naming the file and the limit", async () => {
      const { services, detector, paths } = await sourceWith(gzipSync(`${"x".repeat(10_000)}\n${line}`), "wide.csv.gz");
      const limits = { bytes: 4096, lines: 1_000 };
      const sample = getSampleData(services, OPERATOR, { S3SourceConfig: { ...paths, RoleArn: ROLE, FileFormatDescriptor: { CsvFormatDescriptor: {} } } }, limits);
      await expect(sample).rejects.toBeInstanceOf(ValidationException);
      await expect(sample).rejects.toThrow(/wide\.csv\.gz cannot be read: its first line is longer than 4096 bytes, the most a sample reads/);
      await expect(detectMetricSetConfig(services, OPERATOR, { AnomalyDetectorArn: detector, AutoDetectionMetricSource: { S3SourceConfig: paths } }, limits)).rejects.toThrow(/wide\.csv\.gz cannot be read: its first line is longer than 4096 bytes/);
      // Within the limits, the same file is sampled.
      expect((await getSampleData(services, OPERATOR, { S3SourceConfig: { ...paths, RoleArn: ROLE, FileFormatDescriptor: { CsvFormatDescriptor: {} } } })).SampleRows).toHaveLength(1);
    });
  });
});
