import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessDeniedException } from "../../shared/model/errors.ts";
import { activateDetector, createDetector, createMetricSet, detectDue, detectMetricSetConfig, getSampleData, type Scope, type Services } from "../../shared/app/index.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { awsServices } from "../../shared/runtime/aws.ts";
import { S3BlobStore } from "../../shared/store/s3-blobs.ts";
import { csvOf, HOUR, localAt, metricSetRequest, shopPoints, T0, liveFolder, CSV_FILES } from "../builders.ts";
import { startFakeSts } from "../fakes/sts-server.ts";
import { startS3rver, tempDirOnce } from "../servers.ts";
import { startS3Gate, type GatedRequest } from "./s3-gate.ts";

/**
 * Finding 1, in AWS: a tenant's bucket is read as the role its metric set (or request) names,
 * which Vigil assumes with STS AssumeRole and the tenant's account as ExternalId; Vigil's own
 * function role touches only Vigil's bucket. Against a local STS speaking the Query protocol
 * and s3rver behind a gate that authorises each bucket by signer, as IAM would.
 */
const FUNCTION_KEY = "AKIAVIGILFUNCTION000";
const [ACCOUNT_A, ACCOUNT_B] = ["111111111111", "222222222222"];
const ROLE_A = `arn:aws:iam::${ACCOUNT_A}:role/vigil-reader`;
const ROLE_B = `arn:aws:iam::${ACCOUNT_B}:role/vigil-reader`;
const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
const LIVE = T0 + 14 * 24 * HOUR;
const scopeOf = (account: string): Scope => ({ tenant: account, accountId: account });

describe("reading a tenant's bucket in AWS", () => {
  let sts: Awaited<ReturnType<typeof startFakeSts>>;
  let gate: { endpoint: string; requests: GatedRequest[] };
  let services: Services;
  const saved = { ...process.env };
  /** The issued key of each role, from what STS handed out. */
  const issuedTo = (accessKeyId: string) => sts.calls.find((c) => c.issued?.accessKeyId === accessKeyId);

  beforeAll(async () => {
    sts = await startFakeSts({ [ROLE_A]: { trusts: [FUNCTION_KEY], externalId: ACCOUNT_A }, [ROLE_B]: { trusts: [FUNCTION_KEY], externalId: ACCOUNT_B } });
    const s3 = await startS3rver(["vigil-data", "tenant-a-data", "tenant-b-data"]);
    const direct = new S3BlobStore(s3);
    for (const tenant of ["a", "b"]) {
      await direct.put(`s3://tenant-${tenant}-data/history/all.csv`, csvOf(shopPoints(T0, 14 * 24, SERIES)));
      await direct.put(`s3://tenant-${tenant}-data/live/${liveFolder(LIVE)}/part.csv`, csvOf(shopPoints(LIVE, 1, SERIES)));
    }
    const endpoint = await s3.config.endpoint!();
    gate = await startS3Gate(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`, (bucket, key, token) => {
      if (bucket === "vigil-data") return key === FUNCTION_KEY;
      const call = issuedTo(key);
      return !!call && call.issued!.sessionToken === token && bucket === `tenant-${call.roleArn === ROLE_A ? "a" : "b"}-data`;
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: gate.endpoint,
      AWS_ENDPOINT_URL_STS: sts.endpoint,
      AWS_ACCESS_KEY_ID: FUNCTION_KEY,
      AWS_SECRET_ACCESS_KEY: "function-secret",
      AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
      AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    });
    const config = configFromEnv({ VIGIL_MODE: "aws", VIGIL_TABLE: "vigil", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "us-east-1" });
    if (config.VIGIL_MODE !== "aws") throw new Error("not aws");
    // Records on local disk: DynamoDB is not what is read here.
    services = { ...awsServices(config, { clock: () => LIVE + HOUR }), records: localAt(await tempDirOnce()).records };
  });
  afterAll(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const sample = (scope: Scope, path: string, roleArn: string) => getSampleData(services, scope, { S3SourceConfig: { RoleArn: roleArn, HistoricalDataPathList: [path], ...CSV_FILES } });
  const denied = async (p: Promise<unknown>, message: RegExp) => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(AccessDeniedException);
    expect((e as Error).message).toMatch(message);
  };

  it("reads a tenant's bucket as the role named, assumed once for reads at once, with the tenant's account as ExternalId", async () => {
    const [got] = await Promise.all([1, 2, 3].map(() => sample(scopeOf(ACCOUNT_B), "s3://tenant-b-data/history/all.csv", ROLE_B)));
    expect(got).toBeDefined();
    expect(got!.HeaderValues).toEqual(["timestamp", "platform", "marketplace", "views", "revenue"]);
    expect(sts.calls).toEqual([{ roleArn: ROLE_B, externalId: ACCOUNT_B, sessionName: `vigil-${ACCOUNT_B}`, caller: FUNCTION_KEY, issued: expect.anything() }]);
    const reads = gate.requests.filter((r) => r.bucket === "tenant-b-data");
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.allowed && r.accessKeyId === sts.calls[0]!.issued!.accessKeyId)).toBe(true);
  });

  it("refuses another tenant's role, a role that may not read the bucket, a source without a role, and every local path", async () => {
    const b = scopeOf(ACCOUNT_B);
    // b names a's role: refused, naming the field, before STS is asked (role-account.test.ts: even a role that would admit b); a's bucket is never asked.
    const asked = sts.calls.length;
    const named = await sample(b, "s3://tenant-a-data/history/all.csv", ROLE_A).catch((e: unknown) => e);
    expect(named).toMatchObject({ name: "ValidationException", fields: [{ Name: "S3SourceConfig.RoleArn", Message: `is in account ${ACCOUNT_A}, not ${ACCOUNT_B}` }] });
    expect(sts.calls).toHaveLength(asked);
    // b's own role may not read a's bucket: S3 refuses, and the refusal says so.
    await denied(sample(b, "s3://tenant-a-data/history/all.csv", ROLE_B), /Access denied to s3:\/\/tenant-a-data\/history\/all\.csv: the role .* may not read it/);
    expect(gate.requests.filter((r) => r.bucket === "tenant-a-data").every((r) => !r.allowed)).toBe(true);

    const detector = await createDetector(services, b, { AnomalyDetectorName: "probe", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await denied(detectMetricSetConfig(services, b, { AnomalyDetectorArn: detector.AnomalyDetectorArn, AutoDetectionMetricSource: { S3SourceConfig: { HistoricalDataPathList: ["s3://tenant-b-data/history/"] } } }), /names no RoleArn/);
    await denied(createMetricSet(services, b, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { HistoricalDataPathList: ["s3://tenant-b-data/history/"], ...CSV_FILES } } })), /names no RoleArn/);
    for (const path of ["/etc/passwd", "/proc/self/environ", "relative/file.csv"]) await denied(sample(b, path, ROLE_B), /local paths are not read in AWS/);
    await denied(createMetricSet(services, b, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { RoleArn: ROLE_B, TemplatedPathList: ["/var/data/{{yyyyMMdd}}/{{HHmm}}"], ...CSV_FILES } } })), /local paths are not read in AWS/);
  });

  it("detects a tenant's metric set reading its bucket as its role, and writes results with Vigil's own, assuming the role once", async () => {
    const a = scopeOf(ACCOUNT_A);
    const detector = await createDetector(services, a, { AnomalyDetectorName: "shop", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await createMetricSet(services, a, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { RoleArn: ROLE_A, TemplatedPathList: ["s3://tenant-a-data/live/{{yyyyMMdd}}/{{HHmm}}"], HistoricalDataPathList: ["s3://tenant-a-data/history/"], ...CSV_FILES } } }));
    await activateDetector(services, a, detector.AnomalyDetectorArn);
    const before = gate.requests.length;
    const runs = await detectDue(services, LIVE + HOUR);
    expect(runs.map((r) => [r.metricSet.MetricSetArn.split(":")[4], r.outcome.kind])).toEqual([[ACCOUNT_A, "processed"]]);
    const during = gate.requests.slice(before);
    const role = sts.calls.filter((c) => c.roleArn === ROLE_A && c.externalId === ACCOUNT_A && c.issued);
    expect(role).toHaveLength(1);
    expect(during.filter((r) => r.bucket === "tenant-a-data").map((r) => [r.method, r.accessKeyId, r.allowed])).toEqual([
      ["GET", role[0]!.issued!.accessKeyId, true], // the history's listing
      ["GET", role[0]!.issued!.accessKeyId, true], // its file
      ["GET", role[0]!.issued!.accessKeyId, true], // the interval's listing
      ["GET", role[0]!.issued!.accessKeyId, true], // its file
    ]);
    const writes = during.filter((r) => r.method === "PUT");
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((r) => r.bucket === "vigil-data" && r.accessKeyId === FUNCTION_KEY && r.key.startsWith(`results/${ACCOUNT_A}/`))).toBe(true);
  });

  it("never reads a tenant's bucket with Vigil's own credentials, nor Vigil's bucket with a tenant's", () => {
    expect(gate.requests.filter((r) => r.bucket.startsWith("tenant-") && r.accessKeyId === FUNCTION_KEY)).toEqual([]);
    expect(gate.requests.filter((r) => r.bucket === "vigil-data" && r.accessKeyId !== FUNCTION_KEY)).toEqual([]);
  });
});
