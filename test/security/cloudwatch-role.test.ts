import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountOf } from "../../cli/serve.ts";
import { activateDetector, createDetector, createMetricSet, ingestDue, listMetricSets, OPERATOR, type PulledSource, type Scope, type Services } from "../../shared/app/index.ts";
import { openService } from "../../shared/runtime/service/index.ts";
import { ServeConfig } from "../../shared/runtime/service/config.ts";
import { ManualClock, quietObserver } from "../clock.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { awsServices } from "../../shared/runtime/aws.ts";
import { HOUR, localAt, T0, tempDir } from "../builders.ts";
import { signerOf, startFakeAwsServer } from "../fakes/aws-server.ts";
import { startFakeSts } from "../fakes/sts-server.ts";
import { tempDirOnce } from "../servers.ts";

/**
 * In AWS, a tenant's CloudWatch metric set is pulled as the role it names (CloudWatchConfig.RoleArn),
 * assumed with the tenant's account as ExternalId, as its bucket is read: never with the
 * ingest function's own credentials, which would read the account Vigil runs in. Against a
 * local STS and a local CloudWatch that answers each signer its own account's metrics, as
 * CloudWatch does.
 */
const FUNCTION_KEY = "AKIAVIGILFUNCTION000";
const VIGIL_ACCOUNT = "999999999999";
const [ACCOUNT_A, ACCOUNT_B] = ["111111111111", "222222222222"];
const ROLE_B = `arn:aws:iam::${ACCOUNT_B}:role/vigil-cloudwatch`;
const NOW = T0 + 10 * 24 * HOUR;
const INTERVAL = NOW - HOUR;
const scopeOf = (account: string): Scope => ({ tenant: account, accountId: account });
/** A CreateMetricSet request of load balancers' request counts, read from CloudWatch as `source` says. */
const requests = (AnomalyDetectorArn: string, source: { RoleArn?: string }, MetricSetName = "requests") => ({ AnomalyDetectorArn, MetricSetName, MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM", Namespace: "AWS/ApplicationELB" }], DimensionList: ["LoadBalancer"], MetricSource: { CloudWatchConfig: source } });

/** Each account's one load balancer, with a request count at the interval read. */
const METRICS: Readonly<Record<string, { lb: string; count: number }>> = {
  [VIGIL_ACCOUNT]: { lb: "vigil-internal-lb", count: 4242 },
  [ACCOUNT_B]: { lb: "tenant-b-lb", count: 17 },
};

describe("a tenant's CloudWatch metric set, in AWS", () => {
  let sts: Awaited<ReturnType<typeof startFakeSts>>;
  let services: Services;
  let dir: string;
  /** Each CloudWatch request: its operation and the account its signer belongs to. */
  const cloudWatchCalls: { operation: string; accessKeyId: string; account: string }[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    sts = await startFakeSts({ [ROLE_B]: { trusts: [FUNCTION_KEY], externalId: ACCOUNT_B } });
    const accountOfSigner = (accessKeyId: string) => (accessKeyId === FUNCTION_KEY ? VIGIL_ACCOUNT : (sts.calls.find((c) => c.issued?.accessKeyId === accessKeyId)?.roleArn.split(":")[4] ?? ""));
    const json = (body: unknown) => ({ status: 200, contentType: "application/x-amz-json-1.0", body: JSON.stringify(body) });
    const cloudWatch = await startFakeAwsServer(
      (headers, body) => {
        const operation = String(headers["x-amz-target"] ?? "").split(".")[1] ?? "";
        const { accessKeyId } = signerOf(headers);
        const account = accountOfSigner(accessKeyId);
        cloudWatchCalls.push({ operation, accessKeyId, account });
        const own = METRICS[account];
        const input = JSON.parse(body || "{}") as { MetricDataQueries?: { Id: string }[] };
        if (operation === "ListMetrics") return json({ Metrics: own ? [{ Namespace: "AWS/ApplicationELB", MetricName: "RequestCount", Dimensions: [{ Name: "LoadBalancer", Value: own.lb }] }] : [] });
        return json({ MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({ Id: q.Id, StatusCode: "Complete", Timestamps: own ? [INTERVAL / 1000] : [], Values: own ? [own.count] : [] })) });
      },
      () => ({ status: 403, contentType: "application/x-amz-json-1.0", body: JSON.stringify({ __type: "MissingAuthenticationToken" }) }),
    );
    Object.assign(process.env, { AWS_ENDPOINT_URL_CLOUDWATCH: cloudWatch, AWS_ENDPOINT_URL_STS: sts.endpoint, AWS_ACCESS_KEY_ID: FUNCTION_KEY, AWS_SECRET_ACCESS_KEY: "function-secret" });
    const config = configFromEnv({ VIGIL_MODE: "aws", VIGIL_TABLE: "vigil", VIGIL_RESULTS_ROOT: "s3://vigil-data/results", AWS_REGION: "us-east-1" });
    if (config.VIGIL_MODE !== "aws") throw new Error("not aws");
    // Records and results on local disk: CloudWatch is what is read here.
    dir = await tempDirOnce();
    const local = localAt(dir);
    services = { ...awsServices(config, { clock: () => NOW }), records: local.records, blobs: local.blobs, resultsRoot: local.resultsRoot };

    // Tenant A (listed first) names no role, kept as a metric set made before CreateMetricSet refused that (no CloudWatch to admit it); tenant B names its own.
    for (const [account, source] of [
      [ACCOUNT_A, {}],
      [ACCOUNT_B, { RoleArn: ROLE_B }],
    ] as const) {
      const detector = await createDetector(services, scopeOf(account), { AnomalyDetectorName: "lbs", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
      await createMetricSet(source.RoleArn ? services : { ...services, sources: {} }, scopeOf(account), requests(detector.AnomalyDetectorArn, source));
      await activateDetector(services, scopeOf(account), detector.AnomalyDetectorArn);
    }
  });
  afterAll(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const pulled = (account: string) => readFile(join(dir, "results", account, "lbs", "requests", "ingested", "20210113", "2300", "cloudwatch.csv"), "utf8").catch(() => undefined);

  it("pulls it as its role, never with Vigil's own credentials; one naming no role is not pulled, and the others' are", async () => {
    // A's metric set names no role: its pull fails, and says why, after B's is done.
    await expect(ingestDue(services, NOW)).rejects.toThrow(/names no RoleArn/);
    expect(await pulled(ACCOUNT_B)).toBe(`timestamp,LoadBalancer,RequestCount\n${new Date(INTERVAL).toISOString()},tenant-b-lb,17\n`);
    expect(await pulled(ACCOUNT_A)).toBeUndefined();
    expect(cloudWatchCalls.length).toBeGreaterThan(0);
    expect(cloudWatchCalls.filter((c) => c.accessKeyId === FUNCTION_KEY)).toEqual([]);
    expect(cloudWatchCalls.every((c) => c.account === ACCOUNT_B)).toBe(true);
    expect(sts.calls.map((c) => [c.roleArn, c.externalId, c.caller])).toEqual([[ROLE_B, ACCOUNT_B, FUNCTION_KEY]]);
  });

  it("refuses a CloudWatch source naming no role when the metric set is made, keeping nothing", async () => {
    const detector = await createDetector(services, scopeOf(ACCOUNT_A), { AnomalyDetectorName: "more", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    await expect(createMetricSet(services, scopeOf(ACCOUNT_A), requests(detector.AnomalyDetectorArn, {}))).rejects.toMatchObject({ name: "AccessDeniedException", message: expect.stringMatching(/names no RoleArn/) });
    expect(await listMetricSets(services, scopeOf(ACCOUNT_A), detector.AnomalyDetectorArn)).toEqual([]);
  });
});

describe("a tenant's CloudWatch metric set, in vigil serve", () => {
  it("is not pulled with the operator's own credentials: the default tenant's alone are, and a refused one holds up none", async () => {
    const pulledFor: string[] = [];
    const operatorsCloudWatch: PulledSource = {
      kind: "cloudwatch",
      readInterval: async (metricSet, start) => {
        pulledFor.push(metricSet.MetricSetArn.split(":")[4]!);
        return [{ timestamp: start, dimensions: ["operator-lb"], values: { RequestCount: 4242 } }];
      },
    };
    const clock = new ManualClock(NOW);
    const tenant: Scope = { tenant: "b", accountId: accountOf("b"), dataRoots: [] };
    const service = await openService(ServeConfig.parse({ dataDir: join(await tempDir(), "data") }), { clock, observer: quietObserver(), watch: false, cloudwatch: operatorsCloudWatch, dataRootsOf: () => [] });
    try {
      const s = service.services;
      for (const scope of [tenant, OPERATOR]) {
        const detector = await createDetector(s, scope, { AnomalyDetectorName: "lbs", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
        // Another tenant's is refused when made; one kept from before (made with no CloudWatch to admit it) is refused at its pull.
        if (scope === tenant) await expect(createMetricSet(s, scope, requests(detector.AnomalyDetectorArn, {}))).rejects.toMatchObject({ name: "AccessDeniedException", message: expect.stringMatching(/default tenant's metric sets only/) });
        await createMetricSet(scope === tenant ? { ...s, sources: {} } : s, scope, requests(detector.AnomalyDetectorArn, {}));
        await activateDetector(s, scope, detector.AnomalyDetectorArn);
      }
      await expect(ingestDue(s, NOW)).rejects.toThrow(/reads CloudWatch with the operator's own credentials, for the default tenant's metric sets only/);
      expect(pulledFor.length).toBeGreaterThan(0);
      expect(new Set(pulledFor)).toEqual(new Set([OPERATOR.accountId]));
    } finally {
      await service.stop(5_000);
    }
  });
});
