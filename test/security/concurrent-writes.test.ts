import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CreateAlertCommand,
  CreateAnomalyDetectorCommand,
  DescribeAlertCommand,
  DescribeAnomalyDetectorCommand,
  ListAlertsCommand,
  ListAnomalyDetectorsCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  UpdateAlertCommand,
  UpdateAnomalyDetectorCommand,
  type AnomalyDetectorSummary,
  type LookoutMetricsClient,
} from "@aws-sdk/client-lookoutmetrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountOf } from "../../cli/serve.ts";
import type { Alert } from "../../shared/model/alert.ts";
import type { AnomalyDetector } from "../../shared/model/detector.ts";
import { arnAccount } from "../../shared/model/ids.ts";
import type { DamagedRecord } from "../../shared/store/records.ts";
import { loadSqlite, SqliteRecordStore } from "../../shared/store/sqlite-records.ts";
import { tempDirOnce } from "../servers.ts";
import { l4m, startVigilServe, type Key } from "./wire.ts";

/**
 * Finding 3, through the API: two tenants creating detectors at once got each other's
 * records, 50 concurrent writers left torn and foreign records, and ListAnomalyDetectors
 * answered 500 until files were repaired by hand. Now 50 writers over two tenants, each
 * through the official client against `vigil serve`, create, update, tag and alert at once,
 * under the same names in both tenants; afterwards every record is whole, its own, and
 * holds its writer's last write, and a damaged record is skipped by a List, never a 500.
 */
const WRITERS = 50;
const UPDATES = 4;
const TENANTS: Record<string, Key> = { a: { accessKeyId: "TENANTAKEY", secretAccessKey: "tenant-a-secret-key" }, b: { accessKeyId: "TENANTBKEY", secretAccessKey: "tenant-b-secret-key" } };
const hourly = { AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" as const } };
const writerOf = (i: number) => ({ tenant: i % 2 ? "b" : "a", name: `w${Math.floor(i / 2)}` });
const signature = (tenant: string, name: string, what: string) => `${tenant}/${name}/${what}`;

/** Every page of a listing. */
async function all<T>(page: (token: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined }>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const p = await page(token);
    out.push(...(p.items ?? []));
    token = p.next;
  } while (token);
  return out;
}

describe("50 concurrent writers over two tenants, through vigil serve", () => {
  let dataDir: string;
  let server: Awaited<ReturnType<typeof startVigilServe>>;
  const statuses: number[] = [];
  const client = (tenant: string) => l4m(server.url, TENANTS[tenant]!);
  const detectorsOf = (c: LookoutMetricsClient) => all<AnomalyDetectorSummary>(async (NextToken) => {
    const out = await c.send(new ListAnomalyDetectorsCommand({ MaxResults: 10, NextToken }));
    return { items: out.AnomalyDetectorSummaryList, next: out.NextToken };
  });

  /** Counts the status of every answer, failures included. */
  async function counted<T>(p: Promise<T>): Promise<T> {
    try {
      const out = await p;
      statuses.push((out as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0);
      return out;
    } catch (e) {
      statuses.push((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0);
      throw e;
    }
  }

  async function write(i: number): Promise<void> {
    const { tenant, name } = writerOf(i);
    const c = client(tenant);
    const { AnomalyDetectorArn } = await counted(c.send(new CreateAnomalyDetectorCommand({ AnomalyDetectorName: name, AnomalyDetectorDescription: signature(tenant, name, "v0"), ...hourly })));
    for (let k = 1; k <= UPDATES; k++) await counted(c.send(new UpdateAnomalyDetectorCommand({ AnomalyDetectorArn, AnomalyDetectorDescription: signature(tenant, name, `v${k}`) })));
    await counted(c.send(new TagResourceCommand({ ResourceArn: AnomalyDetectorArn, Tags: { writer: signature(tenant, name, "tag") } })));
    const { AlertArn } = await counted(
      c.send(new CreateAlertCommand({ AlertName: `alert-${name}`, AnomalyDetectorArn, AlertDescription: signature(tenant, name, "alert"), Action: { SNSConfiguration: { RoleArn: `arn:aws:iam::${accountOf(tenant)}:role/r`, SnsTopicArn: `arn:aws:sns:us-east-1:${accountOf(tenant)}:t` } } })),
    );
    await counted(c.send(new UpdateAlertCommand({ AlertArn, AlertDescription: signature(tenant, name, "alert-final") })));
  }

  beforeAll(async () => {
    const dir = await tempDirOnce();
    dataDir = join(dir, "vigil");
    // L4M's quota of 10 detectors per account, raised in the settings as an operator would.
    const settings = join(dir, "vigil.config.json");
    // The writers all come from this machine's address: more than one client's share of connections.
    await writeFile(settings, JSON.stringify({ quotas: { detectorsPerAccount: WRITERS }, maxConnectionsPerClient: 2 * WRITERS }));
    server = await startVigilServe(dataDir, { args: ["--config", settings], env: { VIGIL_SECRET_ACCESS_KEY: "the-operator-own-secret", VIGIL_TENANTS: Object.entries(TENANTS).map(([t, k]) => `${t}:${k.accessKeyId}:${k.secretAccessKey}`).join(",") } });
  }, 60_000);
  afterAll(() => server?.stop());

  it("keeps every record whole, in its own tenant, holding its writer's last write", async () => {
    await Promise.all(Array.from({ length: WRITERS }, (_, i) => write(i)));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(WRITERS * (UPDATES + 4));

    for (const tenant of Object.keys(TENANTS)) {
      const c = client(tenant);
      const names = Array.from({ length: WRITERS / 2 }, (_, j) => `w${j}`);
      const listed = await detectorsOf(c);
      expect(listed.map((d) => d.AnomalyDetectorName).sort()).toEqual([...names].sort());
      expect(listed.every((d) => arnAccount(d.AnomalyDetectorArn!) === accountOf(tenant))).toBe(true);
      for (const d of listed) {
        const described = await c.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: d.AnomalyDetectorArn }));
        expect(described.AnomalyDetectorDescription).toBe(signature(tenant, d.AnomalyDetectorName!, `v${UPDATES}`));
        expect((await c.send(new ListTagsForResourceCommand({ ResourceArn: d.AnomalyDetectorArn }))).Tags).toEqual({ writer: signature(tenant, d.AnomalyDetectorName!, "tag") });
      }
      const alerts = (await c.send(new ListAlertsCommand({ MaxResults: 100 }))).AlertSummaryList ?? [];
      expect(alerts.map((a) => a.AlertName).sort()).toEqual(names.map((n) => `alert-${n}`).sort());
      for (const a of alerts) expect((await c.send(new DescribeAlertCommand({ AlertArn: a.AlertArn }))).Alert?.AlertDescription).toBe(signature(tenant, a.AlertName!.slice("alert-".length), "alert-final"));
    }

    // The records themselves, as the store holds them: each readable, filed under the account its ARN names.
    const damaged: DamagedRecord[] = [];
    const store = SqliteRecordStore.open(join(dataDir, "state", "records.db"), { onDamaged: (d) => void damaged.push(d) });
    const detectors = await store.list<AnomalyDetector>("detectors");
    const alerts = await store.list<Alert>("alerts");
    expect([detectors.length, alerts.length, damaged]).toEqual([WRITERS, WRITERS, []]);
    for (const d of detectors) expect(d.AnomalyDetectorDescription).toBe(signature(arnAccount(d.AnomalyDetectorArn) === accountOf("a") ? "a" : "b", d.AnomalyDetectorName, `v${UPDATES}`));
    for (const a of alerts) expect(arnAccount(a.AnomalyDetectorArn)).toBe(arnAccount(a.AlertArn));
  }, 180_000);

  it("skips a damaged record in a List, with 200, and tells the operator which", async () => {
    const { DatabaseSync } = loadSqlite();
    const db = new DatabaseSync(join(dataDir, "state", "records.db"));
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      const torn = db.prepare("UPDATE records SET body = ? WHERE tbl = 'detectors' AND id = ?").run('{"AnomalyDetectorArn":"arn:aws:lookout', `${accountOf("a")}/w3`);
      expect(torn.changes).toBe(1);
    } finally {
      db.close();
    }
    const c = client("a");
    const listed = await detectorsOf(c);
    expect(listed.map((d) => d.AnomalyDetectorName)).not.toContain("w3");
    expect(listed).toHaveLength(WRITERS / 2 - 1);
    const arn = `arn:aws:lookoutmetrics:us-east-1:${accountOf("a")}:AnomalyDetector:w3`;
    await expect(c.send(new DescribeAnomalyDetectorCommand({ AnomalyDetectorArn: arn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(await detectorsOf(client("b"))).toHaveLength(WRITERS / 2);
    expect(server.stderr()).toContain(`detectors/${accountOf("a")}/w3 is unreadable`);
  });
});
