import { mkdir, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AccessDeniedException,
  BackTestAnomalyDetectorCommand,
  CreateAnomalyDetectorCommand,
  CreateMetricSetCommand,
  DescribeAnomalyDetectorCommand,
  DescribeMetricSetCommand,
  DetectMetricSetConfigCommand,
  GetSampleDataCommand,
  ListAnomalyGroupSummariesCommand,
  ListAnomalyGroupTimeSeriesCommand,
  ListMetricSetsCommand,
  UpdateMetricSetCommand,
} from "@aws-sdk/client-lookoutmetrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountOf } from "../../cli/serve.ts";
import { activateDetector, createDetector, createMetricSet, detectDue, type Scope } from "../../shared/app/index.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { csvOf, HOUR, metricSetRequest, shopPoints, T0, type ShopPoint, liveFolder, CSV_FILES } from "../builders.ts";
import { tempDirOnce } from "../servers.ts";
import { l4m, runVigil, startVigilServe, type Key } from "./wire.ts";

/**
 * Finding 1: a tenant read any file of the machine through GetSampleData and the other
 * operations that read a metric set's files (the server's environment with every tenant's
 * secret, /etc/passwd, another tenant's data and records, the link key). Now a tenant reads
 * only inside the data roots the operator grants it, resolved after links and `..`;
 * anything else is refused with AccessDeniedException, which names the path's problem
 * and never its content.
 */
const A: Key = { accessKeyId: "TENANTAKEY", secretAccessKey: "tenant-a-secret-key" };
const B: Key = { accessKeyId: "TENANTBKEY", secretAccessKey: "tenant-b-secret-key" };
const LINK_KEY = "5ec7e7".repeat(11);
const SERIES = [
  { platform: "web", marketplace: "de", base: 400 },
  { platform: "app", marketplace: "fr", base: 300 },
];
/** Tenant a's own figures: what b must never see. */
const A_SERIES = [{ platform: "web", marketplace: "a-only-market", base: 777 }];
const spike = (p: ShopPoint): ShopPoint => (p.marketplace === "fr" && p.t === T0 + 12 * 24 * HOUR + 5 * HOUR ? { ...p, views: Number(p.views) * 4 } : p);
const ROLE = "arn:aws:iam::000000000000:role/reader";
/** A role of the tenant's own account: a source naming another account's role is refused before any path is looked at. */
const roleOf = (key: Key) => `arn:aws:iam::${accountOf(key === A ? "a" : "b")}:role/reader`;
const hourly = { AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" as const } };
const views = { MetricList: [{ MetricName: "views", AggregationFunction: "SUM" as const }], DimensionList: ["platform", "marketplace"], TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" } };

/** What a refusal must not carry: anything read from the files it names. */
const CONTENT = [A.secretAccessKey, B.secretAccessKey, LINK_KEY, "root:x:0:0", "a-only-market", "VIGIL_TENANTS"];

/** Waits, a bounded while, for the detector's status to be `status` (work the service loop does after a request). */
async function statusBecomes(client: ReturnType<typeof l4m>, AnomalyDetectorArn: string, status: string): Promise<void> {
  let seen: string | undefined;
  for (let i = 0; i < 300 && seen !== status; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    seen = (await client.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status;
  }
  expect(seen).toBe(status);
}

async function refused(p: Promise<unknown>, path: string): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `${path} was read`).toBeInstanceOf(AccessDeniedException);
  const message = (e as Error).message;
  expect(message).toContain(path);
  for (const c of CONTENT) expect(message).not.toContain(c);
  return message;
}

describe("where a tenant of vigil serve may read data", () => {
  let base: string;
  let dataDir: string;
  let rootA: string;
  let rootB: string;
  let server: Awaited<ReturnType<typeof startVigilServe>>;

  beforeAll(async () => {
    base = await tempDirOnce();
    dataDir = join(base, "vigil");
    rootA = join(base, "a-data");
    rootB = join(base, "b-data");
    await mkdir(join(dataDir, "state"), { recursive: true });
    await writeFile(join(dataDir, "state", "link-secret"), LINK_KEY);
    await mkdir(join(dataDir, "files"), { recursive: true });
    await writeFile(join(dataDir, "files", "default.csv"), csvOf(shopPoints(T0, 24, SERIES)));
    for (const [root, series] of [
      [rootA, A_SERIES],
      [rootB, SERIES],
    ] as const) {
      await mkdir(join(root, "history"), { recursive: true });
      await writeFile(join(root, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, series, spike)));
      for (let h = 0; h < 24 * 14; h += 1) {
        await mkdir(join(root, "live", liveFolder(T0 + h * HOUR)), { recursive: true });
        await writeFile(join(root, "live", liveFolder(T0 + h * HOUR), "part.csv"), csvOf(shopPoints(T0 + h * HOUR, 1, series, spike)));
      }
    }
    await symlink(join(rootA, "history", "all.csv"), join(rootB, "escape.csv"));
    await symlink("/", join(rootB, "slash"));
    server = await startVigilServe(dataDir, { env: { VIGIL_SECRET_ACCESS_KEY: "the-operator-own-secret", VIGIL_TENANTS: `a:${A.accessKeyId}:${A.secretAccessKey},b:${B.accessKeyId}:${B.secretAccessKey}`, VIGIL_DATA_ROOTS: `a=${rootA};b=${rootB}` } });
  }, 120_000);
  afterAll(() => server?.stop());

  const sample = (key: Key, path: string, format: typeof CSV_FILES | { FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: boolean; HeaderList: string[]; Delimiter: string } } } = CSV_FILES) => l4m(server.url, key).send(new GetSampleDataCommand({ S3SourceConfig: { RoleArn: roleOf(key), HistoricalDataPathList: [path], ...format } }));

  it("reads a tenant's own files", async () => {
    const own = await sample(B, join(rootB, "history", "all.csv"));
    expect(own.HeaderValues).toEqual(["timestamp", "platform", "marketplace", "views", "revenue"]);
    expect(own.SampleRows?.[0]).toEqual(["2021-01-04 00:00:00", "web", "de", expect.any(String), expect.any(String)]);
  });

  it("refuses the server's environment, the machine's files, another tenant's data and Vigil's own state, through GetSampleData and DetectMetricSetConfig", async () => {
    const nul = { FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: false, HeaderList: ["x"], Delimiter: "\u0000" } } };
    expect(await refused(sample(B, "/proc/self/environ", nul), "/proc/self/environ")).toMatch(/outside the folders you may read/);
    await refused(sample(B, "/etc/passwd", nul), "/etc/passwd");
    await refused(sample(B, join(rootA, "history", "all.csv")), join(rootA, "history", "all.csv"));
    await refused(sample(B, `file://${rootA}/history/all.csv`), `file://${rootA}/history/all.csv`);
    for (const own of ["state/link-secret", "state", "results", "files/default.csv"]) await refused(sample(B, join(dataDir, own), nul), join(dataDir, own));
    // Resolved as the file system resolves it: `..`, and links inside the tenant's own root.
    await refused(sample(B, `${rootB}/../a-data/history/all.csv`), `${rootB}/../a-data/history/all.csv`);
    expect(await refused(sample(B, join(rootB, "escape.csv")), join(rootB, "escape.csv"))).toMatch(/leads outside/);
    await refused(sample(B, join(rootB, "slash", "etc", "passwd"), nul), join(rootB, "slash", "etc", "passwd"));
    await refused(sample(B, `${rootB}/slash/proc/self/environ`, nul), `${rootB}/slash/proc/self/environ`);

    const { AnomalyDetectorArn } = await l4m(server.url, B).send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "probe", ...hourly }));
    const detect = (path: string) => l4m(server.url, B).send(new DetectMetricSetConfigCommand({ AnomalyDetectorArn, AutoDetectionMetricSource: { S3SourceConfig: { HistoricalDataPathList: [path] } } }));
    for (const path of ["/proc/self/environ", join(rootA, "history"), join(dataDir, "state"), join(rootB, "escape.csv")]) await refused(detect(path), path);
    expect((await detect(join(rootB, "history"))).DetectedMetricSetConfig?.MetricSetFrequency?.Value).toEqual({ S: "PT1H" });
  });

  it("refuses a metric set, made or updated, whose paths lie outside the tenant's roots, and keeps nothing of it", async () => {
    const b = l4m(server.url, B);
    const { AnomalyDetectorArn } = await b.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "thief", ...hourly }));
    const make = (source: Record<string, unknown>) => b.send(new CreateMetricSetCommand({ AnomalyDetectorArn, MetricSetName: "orders", ...views, MetricSource: { S3SourceConfig: { ...source, ...CSV_FILES } } }));
    await refused(make({ HistoricalDataPathList: [join(rootA, "history")] }), join(rootA, "history"));
    // A template is judged as it renders: `..` after a placeholder climbs as far as it does then.
    await refused(make({ TemplatedPathList: [`${rootB}/live/{{yyyyMMdd}}/../../../a-data/live/{{yyyyMMdd}}/{{HHmm}}`] }), "a-data/live/19700101");
    expect((await b.send(new ListMetricSetsCommand({ AnomalyDetectorArn }))).MetricSetSummaryList).toEqual([]);

    const { MetricSetArn } = await make({ TemplatedPathList: [`${rootB}/live/{{yyyyMMdd}}/{{HHmm}}`] });
    await refused(b.send(new UpdateMetricSetCommand({ MetricSetArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [`${rootA}/live/{{yyyyMMdd}}/{{HHmm}}`], ...CSV_FILES } } })), `${rootA}/live/19700101`);
    expect((await b.send(new DescribeMetricSetCommand({ MetricSetArn }))).MetricSource?.S3SourceConfig?.TemplatedPathList).toEqual([`${rootB}/live/{{yyyyMMdd}}/{{HHmm}}`]);
  });

  it("refuses BackTestAnomalyDetector and ListAnomalyGroupTimeSeries once a metric set's folder leads elsewhere", async () => {
    const b = l4m(server.url, B);
    const { AnomalyDetectorArn } = await b.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "backtested", ...hourly }));
    await mkdir(join(rootB, "swap"));
    await rename(join(rootB, "history"), join(rootB, "swap", "history"));
    await rename(join(rootB, "live"), join(rootB, "swap", "live"));
    await symlink(join(rootB, "swap", "history"), join(rootB, "history"));
    await symlink(join(rootB, "swap", "live"), join(rootB, "live"));
    await b.send(new CreateMetricSetCommand({ AnomalyDetectorArn, MetricSetName: "orders", ...views, MetricSource: { S3SourceConfig: { TemplatedPathList: [`${rootB}/live/{{yyyyMMdd}}/{{HHmm}}`], HistoricalDataPathList: [join(rootB, "history")], ...CSV_FILES } } }));
    // Links that stay inside the root are followed. The request asks; vigil serve's loop, woken by it, does the work.
    await b.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn }));
    await statusBecomes(b, AnomalyDetectorArn!, "BACK_TEST_COMPLETE");
    const group = (await b.send(new ListAnomalyGroupSummariesCommand({ AnomalyDetectorArn, SensitivityThreshold: 50 }))).AnomalyGroupSummaryList![0]!;
    const series = () => b.send(new ListAnomalyGroupTimeSeriesCommand({ AnomalyDetectorArn, AnomalyGroupId: group.AnomalyGroupId, MetricName: "views" }));
    expect((await series()).TimeSeriesList?.length).toBeGreaterThan(0);

    // The folders are pointed at tenant a's data, as if the tenant could make links: nothing of it is read.
    await rename(join(rootB, "history"), join(rootB, "history.was"));
    await rename(join(rootB, "live"), join(rootB, "live.was"));
    await symlink(join(rootA, "history"), join(rootB, "history"));
    await symlink(join(rootA, "live"), join(rootB, "live"));
    await refused(b.send(new BackTestAnomalyDetectorCommand({ AnomalyDetectorArn })), join(rootB, "history"));
    expect((await b.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn }))).Status).toBe("BACK_TEST_COMPLETE");
    await refused(series(), join(rootB, "live"));
  });

  it("does not start when a root would grant Vigil's own data directory or its state", () => {
    for (const root of [dataDir, join(dataDir, "state"), base]) {
      const r = runVigil(["serve", "--port", "0", "--data-dir", dataDir], { VIGIL_DATA_ROOTS: `default=${root}` });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/ValidationException: The data root .* (holds|lies in) Vigil.s own data directory/);
    }
    const unknown = runVigil(["serve", "--port", "0", "--data-dir", dataDir], { VIGIL_DATA_ROOTS: `nobody=${rootA}` });
    expect(unknown.status, unknown.stderr).toBe(2);
    expect(unknown.stderr).toMatch(/The data roots \(dataRoots, VIGIL_DATA_ROOTS\) name tenant nobody, which is none of the tenants/);
  });
});

describe("the default tenant", () => {
  it("reads <data dir>/files by default (the demo's files), --data-root grants others instead, and Vigil's state stays closed", async () => {
    const base = await tempDirOnce();
    const dataDir = join(base, "vigil");
    await mkdir(join(dataDir, "files"), { recursive: true });
    await mkdir(join(dataDir, "state"), { recursive: true });
    await writeFile(join(dataDir, "files", "mine.csv"), csvOf(shopPoints(T0, 24, SERIES)));
    await writeFile(join(dataDir, "state", "link-secret"), LINK_KEY);
    await mkdir(join(base, "elsewhere"));
    await writeFile(join(base, "elsewhere", "more.csv"), csvOf(shopPoints(T0, 24, SERIES)));
    const sampleOf = (url: string, path: string) => l4m(url).send(new GetSampleDataCommand({ S3SourceConfig: { RoleArn: ROLE, HistoricalDataPathList: [path], ...CSV_FILES } }));

    const plain = await startVigilServe(dataDir);
    try {
      expect((await sampleOf(plain.url, join(dataDir, "files", "mine.csv"))).HeaderValues).toHaveLength(5);
      await refused(sampleOf(plain.url, join(dataDir, "state", "link-secret")), join(dataDir, "state", "link-secret"));
      await refused(sampleOf(plain.url, join(base, "elsewhere", "more.csv")), join(base, "elsewhere", "more.csv"));
      expect(plain.stderr()).toContain(`tenant default (account 000000000000) reads metric files under ${join(dataDir, "files")}`);
    } finally {
      plain.stop();
    }
    const flagged = await startVigilServe(dataDir, { args: ["--data-root", join(base, "elsewhere")] });
    try {
      expect((await sampleOf(flagged.url, join(base, "elsewhere", "more.csv"))).HeaderValues).toHaveLength(5);
      await refused(sampleOf(flagged.url, join(dataDir, "files", "mine.csv")), join(dataDir, "files", "mine.csv"));
    } finally {
      flagged.stop();
    }
  });
});

describe("detection", () => {
  it("reads a tenant's metric set with that tenant's roots: a folder that leads outside fails its interval, and other tenants' detection goes on", async () => {
    const base = await tempDirOnce();
    const [rootA, rootB] = [join(base, "a"), join(base, "b")];
    const roots: Record<string, string[]> = { [accountOf("a")]: [rootA], [accountOf("b")]: [rootB] };
    const rt = localServices(join(base, "vigil"), { clock: () => T0 + 14 * 24 * HOUR, dataRootsOf: (account) => roots[account] ?? [] });
    const LIVE = T0 + 14 * 24 * HOUR;
    for (const root of [rootA, rootB]) {
      await rt.blobs.put(join(root, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, SERIES)));
      await rt.blobs.put(join(root, "live", liveFolder(LIVE), "part.csv"), csvOf(shopPoints(LIVE, 1, SERIES)));
    }
    const scopes: Scope[] = ["a", "b"].map((t) => ({ tenant: t, accountId: accountOf(t), dataRoots: roots[accountOf(t)] }));
    for (const [i, scope] of scopes.entries()) {
      const root = [rootA, rootB][i]!;
      const detector = await createDetector(rt, scope, { AnomalyDetectorName: "shop", ...hourly });
      await createMetricSet(rt, scope, metricSetRequest({ AnomalyDetectorArn: detector.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(root, "live", "{{yyyyMMdd}}", "{{HHmm}}")], HistoricalDataPathList: [join(root, "history")], ...CSV_FILES } } }));
      await activateDetector(rt, scope, detector.AnomalyDetectorArn);
    }
    // b's live folder now leads into a's.
    await rename(join(rootB, "live"), join(base, "b-live-was"));
    await symlink(join(rootA, "live"), join(rootB, "live"));

    const runs = await detectDue(rt, LIVE + HOUR);
    const of = (tenant: string) => runs.filter((r) => r.metricSet.MetricSetArn.includes(`:${accountOf(tenant)}:`));
    expect(of("a").map((r) => r.outcome.kind)).toEqual(["processed"]);
    const failed = of("b").map((r) => r.outcome);
    expect(failed).toEqual([{ kind: "failed", execution: expect.objectContaining({ Status: "FAILED", FailureReason: expect.stringMatching(/Access denied to .*b\/live\/.*leads outside/) }) }]);
    expect(await rt.records.list("executions", `${accountOf("b")}/`)).toEqual([expect.objectContaining({ Status: "FAILED", rowsRead: 0 })]);
  });
});
