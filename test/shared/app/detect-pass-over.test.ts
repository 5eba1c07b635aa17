import { describe, expect, it } from "vitest";
import { detectMetricSet } from "../../../shared/app/detect.ts";
import { emptyModel } from "../../../shared/detect/shard-model.ts";
import { metricSetKey } from "../../../shared/model/ids.ts";
import type { RecordStore } from "../../../shared/store/records.ts";
import { activeShop, HOUR } from "../../builders.ts";

/**
 * A metric set whose model has no history (through NaN) stays so while none of its live
 * intervals commits: say its tenant's role refuses every live read. Each interval's run
 * then passes over the intervals before it: those records are the only ones that can still
 * await a run. Reading the metric set's whole retained history of executions (90 days: up to
 * 25,920 records at PT5M) on every run, in the one invocation that detects every tenant, is
 * what a tenant can make Vigil do by breaking its own role.
 */
describe("a model without history, passing over the intervals before the newest", () => {
  it("reads no more execution records than the catch-up window, however many the metric set keeps", async () => {
    const { rt, metricSet, live, clock } = await activeShop();
    // 3,000 earlier intervals, each FAILED and settled (not to be run again), as passing over left them.
    const kept = 3000;
    for (let i = 0; i < kept; i += 500) {
      await rt.records.putMany(
        Array.from({ length: Math.min(500, kept - i) }, (_, j) => {
          const t = live - (i + j + 1) * HOUR;
          return { table: "executions" as const, id: `${metricSetKey(metricSet.MetricSetArn)}/${t}`, value: { MetricSetArn: metricSet.MetricSetArn, Timestamp: new Date(t).toISOString(), Status: "FAILED", FailureReason: "Access denied", rowsRead: 0, rowsRejected: 0, seriesScored: 0, anomalies: 0 } };
        }),
      );
    }
    let read = 0;
    const records = new Proxy(rt.records, {
      get: (target, key) =>
        key === "listPage"
          ? async (...args: Parameters<RecordStore["listPage"]>) => {
              const page = await target.listPage(...args);
              if (args[0] === "executions") read += page.items.length;
              return page;
            }
          : Reflect.get(target, key, target),
    });
    const now = (clock.now = live + HOUR);
    await detectMetricSet({ ...rt, records }, metricSet, now, emptyModel(HOUR, [7, 11]), { maxCatchUp: 3 });
    expect(read).toBeLessThanOrEqual(3);
  });

  it("still passes over what awaits a run within the window, once: a run trying the same interval again reads none of those before it", async () => {
    const { rt, metricSet, live, clock } = await activeShop();
    // An earlier run's interval, FAILED to be run again, which detection now goes past.
    const earlier = live - HOUR;
    const key = (t: number) => `${metricSetKey(metricSet.MetricSetArn)}/${t}`;
    await rt.records.put("executions", key(earlier), { MetricSetArn: metricSet.MetricSetArn, Timestamp: new Date(earlier).toISOString(), Status: "FAILED", FailureReason: "Access denied", runsAgain: true, rowsRead: 0, rowsRejected: 0, seriesScored: 0, anomalies: 0 });
    const before: number[] = [];
    const records = new Proxy(rt.records, {
      get: (target, k) =>
        k === "get"
          ? async (...args: Parameters<RecordStore["get"]>) => {
              const t = Number(args[1].split("/").pop());
              if (args[0] === "executions" && t < live) before.push(t);
              return target.get(...args);
            }
          : Reflect.get(target, k, target),
    });
    const now = (clock.now = live + HOUR);
    await detectMetricSet({ ...rt, records }, metricSet, now, emptyModel(HOUR, [7, 11]), { maxCatchUp: 3 });
    expect((await rt.records.get<{ Status: string; FailureReason: string; runsAgain?: true }>("executions", key(earlier)))).toMatchObject({ Status: "FAILED", FailureReason: expect.stringMatching(/^Not detected: detection went on from a later interval .*\(it had failed: Access denied\)$/) });
    expect(new Set(before)).toEqual(new Set([live - 2 * HOUR, earlier]));
    before.length = 0;
    await detectMetricSet({ ...rt, records }, metricSet, now, emptyModel(HOUR, [7, 11]), { maxCatchUp: 3 });
    expect(before).toEqual([]);
  });
});
