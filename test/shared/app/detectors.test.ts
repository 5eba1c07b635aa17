import { describe, expect, it } from "vitest";
import { deactivateDetector, deleteDetector, detectDue, OPERATOR, type Services } from "../../../shared/app/index.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import { metricSetKey } from "../../../shared/model/ids.ts";
import type { MetricSet } from "../../../shared/model/metric-set.ts";
import type { Table } from "../../../shared/store/records.ts";
import { activeShop, duringWrite, HOUR, latch } from "../../builders.ts";

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
});
