import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateAnomalyDetectorCommand, CreateMetricSetCommand } from "@aws-sdk/client-lookoutmetrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDirOnce } from "../servers.ts";
import { metricSetKey } from "../../shared/model/ids.ts";
import { localServices } from "../../shared/runtime/local.ts";
import { l4m, signedHeaders, startVigilServe, type Key } from "./wire.ts";

/**
 * Finding 4: another tenant wrote rows into a push metric set, and by reusing its
 * ClientToken overwrote the first tenant's file (a value 5 became 0); the refusal of a
 * metric set that takes no pushed rows named it and its source. Now another tenant's
 * metric set is not found, a ClientToken belongs to one metric set (so one tenant), and the
 * same token with other rows is refused with ConflictException, never overwriting, while
 * the same token with the same rows answers as the first request did.
 */
/** The default tenant's key, with a secret of the operator's own: the public default is refused beside other tenants. */
const DEFAULT: Key = { accessKeyId: "VIGILLOCALKEY", secretAccessKey: "the-operator-own-secret" };
const B: Key = { accessKeyId: "TENANTBKEY", secretAccessKey: "tenant-b-secret-key" };
const HOUR = 3_600_000;
/** An hour that has closed and is not detected: rows for it are taken. */
const stamp = new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR).toISOString().slice(0, 19).replace("T", " ");
const rows = (views: number) => [{ timestamp: stamp, platform: "web", views }];

describe("PutMetricRows across tenants and retries", () => {
  let dataDir: string;
  let server: Awaited<ReturnType<typeof startVigilServe>>;
  const pushed: Record<string, string> = {};
  let s3Sourced: string;

  async function put(key: Key, body: unknown): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
    const text = JSON.stringify(body);
    const res = await fetch(`${server.url}/PutMetricRows`, { method: "POST", headers: await signedHeaders(server.url, "POST", "/PutMetricRows", text, key), body: text });
    return { status: res.status, type: res.headers.get("x-amzn-errortype"), json: (await res.json()) as Record<string, unknown> };
  }
  /** Every file the pushes wrote, with what it holds. */
  async function pushFiles(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await readdir(join(dataDir, "results"), { recursive: true, withFileTypes: true }).catch(() => [])) {
      if (e.isFile() && e.name.startsWith("push-")) out[join(e.parentPath, e.name).slice(dataDir.length + 1)] = await readFile(join(e.parentPath, e.name), "utf8");
    }
    return out;
  }

  beforeAll(async () => {
    dataDir = join(await tempDirOnce(), "vigil");
    server = await startVigilServe(dataDir, { env: { VIGIL_SECRET_ACCESS_KEY: DEFAULT.secretAccessKey, VIGIL_TENANTS: `b:${B.accessKeyId}:${B.secretAccessKey}` } });
    for (const [tenant, key] of [
      ["default", DEFAULT],
      ["b", B],
    ] as const) {
      const { AnomalyDetectorArn } = await l4m(server.url, key).send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: `shop-${tenant}`, AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
      const made = await l4m(server.url, key).send(
        new CreateMetricSetCommand({
          AnomalyDetectorArn,
          MetricSetName: "pushed",
          MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }],
          DimensionList: ["platform"],
          TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" },
          MetricSource: { HttpPushConfig: {} } as never,
        }),
      );
      pushed[tenant] = made.MetricSetArn!;
    }
    const { AnomalyDetectorArn } = await l4m(server.url, DEFAULT).send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: "files", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } }));
    s3Sourced = (await l4m(server.url, DEFAULT).send(new CreateMetricSetCommand({ AnomalyDetectorArn, MetricSetName: "secret-sales", MetricList: [{ MetricName: "views", AggregationFunction: "SUM" }], TimestampColumn: { ColumnName: "timestamp", ColumnFormat: "yyyy-MM-dd HH:mm:ss" }, MetricSource: { S3SourceConfig: { TemplatedPathList: [join(dataDir, "files", "live", "{{yyyyMMdd}}", "{{HHmm}}")], FileFormatDescriptor: { CsvFormatDescriptor: { ContainsHeader: true } } } } }))).MetricSetArn!;
  }, 60_000);
  afterAll(() => server?.stop());

  it("refuses another tenant's metric set as if it did not exist, writing nothing and naming nothing of it", async () => {
    expect((await put(DEFAULT, { MetricSetArn: pushed["default"], ClientToken: "batch-1", Rows: rows(5) })).status).toBe(200);
    const before = await pushFiles();
    expect(Object.values(before)).toEqual([expect.stringMatching(/,web,5\n$/)]);

    const intruder = await put(B, { MetricSetArn: pushed["default"], ClientToken: "batch-1", Rows: rows(0) });
    expect([intruder.status, intruder.type]).toEqual([400, "ResourceNotFoundException"]);
    const probe = await put(B, { MetricSetArn: s3Sourced, Rows: rows(0) });
    expect([probe.status, probe.type]).toEqual([400, "ResourceNotFoundException"]);
    expect(JSON.stringify(probe.json)).not.toMatch(/HttpPushConfig|S3SourceConfig|pushed rows|its source/);
    expect(await pushFiles()).toEqual(before);
  });

  it("keeps a ClientToken to its metric set: another tenant's own metric set takes the same token", async () => {
    const theirs = await put(B, { MetricSetArn: pushed["b"], ClientToken: "batch-1", Rows: rows(0) });
    expect(theirs).toMatchObject({ status: 200, json: { RowsAccepted: 1 } });
    const files = await pushFiles();
    expect(Object.entries(files).filter(([f]) => f.includes("push-batch-1.csv")).map(([, text]) => text.trim().split("\n")[1]!.split(",").at(-1)).sort()).toEqual(["0", "5"]);
  });

  it("refuses the same token with other rows (ConflictException), overwriting nothing, and answers the same rows as it did the first time", async () => {
    const before = await pushFiles();
    const reused = await put(DEFAULT, { MetricSetArn: pushed["default"], ClientToken: "batch-1", Rows: rows(0) });
    expect([reused.status, reused.type]).toEqual([409, "ConflictException"]);
    expect(reused.json["Message"]).toMatch(/ClientToken batch-1 was used before with other rows/);
    expect(await pushFiles()).toEqual(before);

    const retried = await put(DEFAULT, { MetricSetArn: pushed["default"], ClientToken: "batch-1", Rows: rows(5) });
    expect(retried).toMatchObject({ status: 200, json: { RowsAccepted: 1, RowsRejected: 0 } });
    expect(await pushFiles()).toEqual(before);
  });

  it("takes another tenant's request for a metric set of this one as not found, before it holds any interval of it", async () => {
    const holds = async () => (await localServices(dataDir).records.list("leases", `${metricSetKey(pushed["default"]!)}/push/`)).length;
    const before = await holds();
    const intruder = await put(B, { MetricSetArn: pushed["default"], Rows: rows(7) });
    expect([intruder.status, intruder.type]).toEqual([400, "ResourceNotFoundException"]);
    expect(await holds()).toBe(before);
  });

  it("lets one of many concurrent requests with one token and different rows win, refuses the rest, and keeps the winner's rows", async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => put(DEFAULT, { MetricSetArn: pushed["default"], ClientToken: "race", Rows: rows(100 + i) })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    const winner = answers.findIndex((a) => a.status === 200);
    const files = Object.entries(await pushFiles()).filter(([f]) => f.includes("push-race.csv"));
    expect(files.map(([, text]) => text.trim().split("\n")[1]!.split(",").at(-1))).toEqual([String(100 + winner)]);
  });
});
