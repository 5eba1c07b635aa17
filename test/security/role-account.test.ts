import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDetector, createMetricSet, getSampleData, listMetricSets, updateMetricSet, type Scope, type Services } from "../../shared/app/index.ts";
import { metricSetFiles } from "../../shared/app/data.ts";
import { AccessDeniedException } from "../../shared/model/errors.ts";
import { awsServices } from "../../shared/runtime/aws.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { localAt, metricSetRequest } from "../builders.ts";
import { startFakeSts } from "../fakes/sts-server.ts";
import { tempDirOnce } from "../servers.ts";

/**
 * Tenants' roles serve reads and alert actions alike (role-credentials.ts, one cache). An
 * alert may name only a role of its own account, so that "a role whose trust policy forgot
 * the condition still serves its own account only" (docs/alerts.md). A metric set's source,
 * read with the same credentials, must be held to the same rule: otherwise tenant B reads
 * tenant A's bucket through A's role whose trust policy does not pin its ExternalId to A.
 * The careless trust policy is played by a local STS role that admits B's ExternalId.
 */
const FUNCTION_KEY = "AKIAVIGILFUNCTION000";
const [A, B] = ["111111111111", "222222222222"];
const CARELESS_ROLE_A = `arn:aws:iam::${A}:role/vigil-reader`;
const scopeB: Scope = { tenant: B, accountId: B };

describe("a source naming another account's role", () => {
  let sts: Awaited<ReturnType<typeof startFakeSts>>;
  let services: Services;
  const closed = createServer();

  beforeAll(async () => {
    sts = await startFakeSts({ [CARELESS_ROLE_A]: { trusts: [FUNCTION_KEY], externalId: B } });
    // S3 answers nothing here: what matters is whether Vigil assumed the role at all.
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const { port } = closed.address() as { port: number };
    await new Promise((r) => closed.close(r));
    for (const [k, v] of Object.entries({ AWS_ENDPOINT_URL_STS: sts.endpoint, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: FUNCTION_KEY, AWS_SECRET_ACCESS_KEY: "s" })) vi.stubEnv(k, v);
    const config = configFromEnv({ VIGIL_MODE: "aws", VIGIL_TABLE: "vigil", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "us-east-1" });
    if (config.VIGIL_MODE !== "aws") throw new Error("not aws");
    services = { ...awsServices(config), records: localAt(await tempDirOnce()).records };
  });
  afterAll(() => vi.unstubAllEnvs());

  const s3 = { S3SourceConfig: { RoleArn: CARELESS_ROLE_A, HistoricalDataPathList: ["s3://tenant-a-data/history/"], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true, Delimiter: "," } } } };
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    );

  it("is refused before STS is asked, as an alert's action naming it is: GetSampleData and metric sets, made or updated, name the field", async () => {
    expect(await outcome(getSampleData(services, scopeB, s3))).toMatchObject({ name: "ValidationException", fields: [{ Name: "S3SourceConfig.RoleArn", Message: `is in account ${A}, not ${B}` }] });
    const detector = await createDetector(services, scopeB, { AnomalyDetectorName: "probe", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const request = metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { ...s3.S3SourceConfig, RoleArn: `arn:aws:iam::${B}:role/vigil-reader` } } });
    const made = await createMetricSet(services, scopeB, request);
    expect(await outcome(createMetricSet(services, scopeB, { ...request, MetricSetName: "other", MetricSource: s3 }))).toMatchObject({ name: "ValidationException", fields: [{ Name: "MetricSource.S3SourceConfig.RoleArn" }] });
    expect(await outcome(updateMetricSet(services, scopeB, { MetricSetArn: made.MetricSetArn, MetricSource: s3 }))).toMatchObject({ name: "ValidationException", fields: [{ Name: "MetricSource.S3SourceConfig.RoleArn" }] });
    expect(await outcome(createMetricSet(services, scopeB, { ...request, MetricSetName: "pulled", MetricList: [{ MetricName: "views", AggregationFunction: "SUM", Namespace: "AWS/EC2" }], MetricSource: { CloudWatchConfig: { RoleArn: CARELESS_ROLE_A } } }))).toMatchObject({ name: "ValidationException", fields: [{ Name: "MetricSource.CloudWatchConfig.RoleArn" }] });
    expect((await listMetricSets(services, scopeB)).map((m) => [m.MetricSetName, m.MetricSource.S3SourceConfig?.RoleArn])).toEqual([["orders", `arn:aws:iam::${B}:role/vigil-reader`]]);
    expect(sts.calls).toEqual([]);
  });

  it("is refused at read, before STS is asked, for a metric set kept before the rule", async () => {
    const kept = metricSetFiles(services, scopeB, { MetricSource: s3 });
    const refused = await outcome(kept.get("s3://tenant-a-data/history/all.csv"));
    expect(refused).toBeInstanceOf(AccessDeniedException);
    expect((refused as Error).message).toMatch(`Vigil does not assume the role ${CARELESS_ROLE_A} for account ${B}`);
    expect(sts.calls.filter((c) => c.roleArn === CARELESS_ROLE_A)).toEqual([]);
  });
});
