import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { activateDetector, backTestDetector, createDetector, createMetricSet, deactivateDetector, deleteDetector, detectDue, ingestDue, OPERATOR, releaseStaleLeases, runBackTests, type Services } from "../../../shared/app/index.ts";
import type { PulledSource } from "../../../shared/app/ingest.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import { metricSetKey } from "../../../shared/model/ids.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import type { Table } from "../../../shared/store/records.ts";
import { activeShop, csvOf, duringWrite, HOUR, latch, localAt, metricSetRequest, shopPoints, T0, tempDir } from "../../builders.ts";
import { shop } from "./shop.ts";

/**
 * DeleteAnomalyDetector purges what detection wrote for each metric set. Detection that was
 * under way as it ran (an interval's run, a catch-up that read the detector before it was
 * marked) must not write after the purge: what it wrote would outlive the detector, and a
 * detector made again under the same name would find it as its own.
 */

const TABLES: readonly Table[] = ["groups", "executions", "quality", "feedback", "pushes", "leases"];

/** Every record and file detection keeps for the metric set. */
async function leftOf(rt: Services, metricSet: MetricSet): Promise<string[]> {
  const left: string[] = [];
  for (const table of TABLES) for (const r of await rt.records.list(table, `${metricSetKey(metricSet.MetricSetArn)}/`)) left.push(`${table}: ${JSON.stringify(r)}`);
  for (const f of await rt.blobs.list(`${metricSetRoot(rt.resultsRoot, metricSet)}/`)) left.push(f);
  return left;
}


/** A shop whose history is learned, with two live hours closed and not yet detected. */
async function learnedShop() {
  const shop = await activeShop({ liveHours: 2 });
  await detectDue(shop.rt, shop.clock.now);
  shop.clock.now = shop.live + 2 * HOUR;
  return shop;
}

describe("deleteDetector", () => {
  it("is refused while an interval's run is under way (the detector stays DELETING, nothing new starts), and once the run is done deletes everything it wrote", async () => {
    const { rt, metricSet, clock } = await learnedShop();
    const arn = metricSet.AnomalyDetectorArn;
    let refused: unknown;
    // The run has read its files and writes its results: its owner deactivates and deletes the detector now.
    const running = duringWrite(rt, "anomalies.jsonl", async () => {
      await deactivateDetector(rt, OPERATOR, arn);
      refused = await deleteDetector(rt, OPERATOR, arn).catch((e: unknown) => e);
    });
    const runs = await detectDue(running, clock.now);
    expect(refused).toMatchObject({ name: "ConflictException", message: expect.stringMatching(/under way/) });
    expect(runs[0]?.outcome.kind).toBe("processed");
    // Marked DELETING: the next invocation starts nothing.
    expect(await detectDue(rt, clock.now + HOUR)).toEqual([]);
    await deleteDetector(rt, OPERATOR, arn);
    expect(await leftOf(rt, metricSet)).toEqual([]);
  });

  it("leaves nothing of a catch-up that read the detector before its deletion, which ran whole before the catch-up wrote", async () => {
    const { rt, metricSet, clock } = await learnedShop();
    const arn = metricSet.AnomalyDetectorArn;
    const deleted = latch();
    // detectDue lists the metric sets of the detector it found ACTIVE; the whole deletion runs before it goes on.
    let listed = false;
    const records = new Proxy(rt.records, {
      get: (target, key) =>
        key === "list"
          ? async (...args: Parameters<Services["records"]["list"]>) => {
              const found = await target.list(...args);
              if (!listed && args[0] === "metricSets") {
                listed = true;
                await deactivateDetector(rt, OPERATOR, arn);
                await deleteDetector(rt, OPERATOR, arn);
                deleted.open();
              }
              return found;
            }
          : Reflect.get(target, key, target),
    });
    const runs = await detectDue({ ...rt, records }, clock.now);
    await deleted.done;
    expect(runs).toEqual([]);
    expect(await leftOf(rt, metricSet)).toEqual([]);
  });

  it("is refused while a catch-up records the intervals awaiting their turn, before it takes any: once it is done, nothing of it is left", async () => {
    const { rt, metricSet, clock, live } = await learnedShop();
    const arn = metricSet.AnomalyDetectorArn;
    let refused: unknown;
    const records = new Proxy(rt.records, {
      get: (target, key) =>
        key === "putMany"
          ? async (...args: Parameters<Services["records"]["putMany"]>) => {
              if (refused === undefined && args[0].some((w) => w.table === "executions" && w.id.endsWith(`/${live + HOUR}`))) {
                await deactivateDetector(rt, OPERATOR, arn);
                refused = await deleteDetector(rt, OPERATOR, arn).catch((e: unknown) => e);
              }
              return target.putMany(...args);
            }
          : Reflect.get(target, key, target),
    });
    await detectDue({ ...rt, records }, clock.now);
    expect(refused).toMatchObject({ name: "ConflictException" });
    await deleteDetector(rt, OPERATOR, arn);
    expect(await leftOf(rt, metricSet)).toEqual([]);
  });

  it("leaves nothing of a catch-up that outlived its visit's term: an interval taken after the deletion is given back unwritten", async () => {
    const { rt, metricSet, clock, live } = await learnedShop();
    const arn = metricSet.AnomalyDetectorArn;
    // The first interval is committed; before the second is taken, the catch-up has run past its visit's term, and the whole deletion runs.
    const records = new Proxy(rt.records, {
      get: (target, key) =>
        key === "claim"
          ? async (...args: Parameters<Services["records"]["claim"]>) => {
              if (args[0].endsWith(`/${live + HOUR}`)) {
                clock.now += 16 * 60_000;
                await deactivateDetector(rt, OPERATOR, arn);
                await deleteDetector(rt, OPERATOR, arn);
              }
              return target.claim(...args);
            }
          : Reflect.get(target, key, target),
    });
    const runs = await detectDue({ ...rt, records }, clock.now);
    expect(runs.map((r) => [r.intervalStart - live, r.outcome.kind])).toEqual([
      [0, "processed"],
      [HOUR, "withdrawn"],
    ]);
    expect(await leftOf(rt, metricSet)).toEqual([]);
  });

  it("waits for a back-test under way: refused while it writes its report, which a detector made again would have answered as its own", async () => {
    const dir = await tempDir();
    const rt = localAt(dir, () => T0 + 14 * 24 * HOUR);
    await rt.blobs.put(join(dir, "history", "all.csv"), csvOf(shopPoints(T0, 14 * 24, [{ platform: "web", marketplace: "de", base: 400 }])));
    const d = await createDetector(rt, OPERATOR, { AnomalyDetectorName: "trial", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } });
    const metricSet = await createMetricSet(rt, OPERATOR, metricSetRequest({ AnomalyDetectorArn: d.AnomalyDetectorArn, MetricSource: { S3SourceConfig: { HistoricalDataPathList: [join(dir, "history")] } } }));
    await backTestDetector(rt, OPERATOR, d.AnomalyDetectorArn);
    let refused: unknown;
    await runBackTests(
      duringWrite(rt, "backtest.json", async () => {
        await deactivateDetector(rt, OPERATOR, d.AnomalyDetectorArn);
        refused = await deleteDetector(rt, OPERATOR, d.AnomalyDetectorArn).catch((e: unknown) => e);
      }),
    );
    expect(refused).toMatchObject({ name: "ConflictException", message: expect.stringMatching(/under way/) });
    await deleteDetector(rt, OPERATOR, d.AnomalyDetectorArn);
    expect(await leftOf(rt, metricSet)).toEqual([]);
  });

  it("waits for CloudWatch rows being pulled: refused while the pull is under way, and nothing of it is left once deleted", async () => {
    const now = T0 + 2 * HOUR;
    let arn = "";
    let refused: unknown = "not asked";
    let rt: Services;
    const source: PulledSource = {
      kind: "cloudwatch",
      readInterval: async (_metricSet, from) => {
        // CloudWatch answers slowly; the owner deactivates and deletes the detector meanwhile.
        if (refused === "not asked") {
          await deactivateDetector(rt, OPERATOR, arn);
          refused = await deleteDetector(rt, OPERATOR, arn).catch((e: unknown) => e);
        }
        return [{ timestamp: from, dimensions: ["lb-a"], values: { RequestCount: 42 } }];
      },
    };
    rt = localAt(await tempDir(), () => now, { cloudwatch: source });
    arn = (await createDetector(rt, OPERATOR, { AnomalyDetectorName: "lbs", AnomalyDetectorConfig: { AnomalyDetectorFrequency: "PT1H" } })).AnomalyDetectorArn;
    const metricSet = await createMetricSet(rt, OPERATOR, {
      AnomalyDetectorArn: arn,
      MetricSetName: "requests",
      MetricList: [{ MetricName: "RequestCount", AggregationFunction: "SUM", Namespace: "AWS/ApplicationELB" }],
      DimensionList: ["LoadBalancer"],
      MetricSource: { CloudWatchConfig: { RoleArn: "arn:aws:iam::000000000000:role/vigil-cloudwatch" } },
    });
    await activateDetector(rt, OPERATOR, arn);
    await ingestDue(rt, now);
    expect(refused).toMatchObject({ name: "ConflictException" });
    await deleteDetector(rt, OPERATOR, arn);
    expect(await leftOf(rt, metricSet)).toEqual([]);
  });

  it("deletes its alerts' notification state: a group keeps its id (its metric set and start), and an alert made again under the name would read it as its own", async () => {
    const s = await shop(8);
    expect((await s.services.records.list("notifications")).length).toBeGreaterThan(0);
    await deactivateDetector(s.services, s.scope, s.detectorArn);
    await deleteDetector(s.services, s.scope, s.detectorArn);
    expect(await s.services.records.list("notifications")).toEqual([]);
  });

  it("goes through once the process that stopped mid-detection starts again: its visit is ended with its stale leases", async () => {
    const { rt, metricSet, clock } = await learnedShop();
    // Killed mid-detection: its visit is never ended.
    const killed: Services = {
      ...rt,
      records: new Proxy(rt.records, {
        get: (target, key) => (key === "delete" ? async (table: Table, id: string) => (id.includes("/visit/") ? Promise.reject(new Error("killed")) : target.delete(table, id)) : Reflect.get(target, key, target)),
      }),
    };
    await detectDue(killed, clock.now).catch(() => undefined);
    await deactivateDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn);
    await expect(deleteDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn)).rejects.toMatchObject({ name: "ConflictException" });
    await releaseStaleLeases(rt, clock.now);
    await deleteDetector(rt, OPERATOR, metricSet.AnomalyDetectorArn);
    expect(await leftOf(rt, metricSet)).toEqual([]);
  });

  it("is not waited on by an invocation with nothing due: it writes no record at all, no visit either", async () => {
    const { rt, clock } = await learnedShop();
    await detectDue(rt, clock.now);
    const writes: string[] = [];
    const records = new Proxy(rt.records, {
      get: (target, key) => {
        const found = Reflect.get(target, key, target);
        return ["put", "putMany", "create", "update", "delete", "deletePrefix", "claim", "release"].includes(String(key)) && typeof found === "function"
          ? (...args: unknown[]) => (writes.push(`${String(key)} ${JSON.stringify(args[0]).slice(0, 80)}`), (found as (...a: unknown[]) => unknown).apply(target, args))
          : found;
      },
    });
    expect(await detectDue({ ...rt, records }, clock.now)).toEqual([]);
    expect(writes).toEqual([]);
  });
});
