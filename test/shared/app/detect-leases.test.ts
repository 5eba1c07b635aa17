import { describe, expect, it } from "vitest";
import { detectMetricSet, executionKey, LEASE_MS } from "../../../shared/app/detect.ts";
import { detectInterval, type Services } from "../../../shared/app/index.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import { headUri, readModel } from "../../../shared/detect/shard-model.ts";
import type { BlobStore } from "../../../shared/store/blobs.ts";
import type { RecordStore } from "../../../shared/store/records.ts";
import { activeShop, HOUR } from "../../builders.ts";

/**
 * A run holds its interval by a lease with a term (LEASE_MS). One that outlives it (a slow
 * store, a paused process) may find the interval taken over by another run: it must not
 * commit over that run's work, nor, failing, mark its COMPLETED interval to be run again or
 * remove its done mark. The services' clock is moved on while a run merges.
 */

/** The services, with `during` run once, as the first file named `name` is written. */
function duringWrite(rt: Services, name: string, during: () => Promise<void>): Services {
  let done = false;
  const blobs = new Proxy(rt.blobs, {
    get: (target, key) =>
      key === "put"
        ? async (...args: Parameters<BlobStore["put"]>) => {
            if (!done && args[0].endsWith(`/${name}`)) {
              done = true;
              await during();
            }
            return target.put(...args);
          }
        : Reflect.get(target, key, target),
  });
  return { ...rt, blobs };
}

/** The services, with `during` run once as a run writes its interval's anomalies: its merge under way, before its records and its commit. */
const duringMerge = (rt: Services, during: () => Promise<void>) => duringWrite(rt, "anomalies.jsonl", during);

const DONE_MARK = { until: Number.MAX_SAFE_INTEGER };

describe("a run that outlives its lease", () => {
  it("commits nothing, and the interval is taken over and run again by the next run", async () => {
    const { rt, metricSet, live, clock } = await activeShop(1);
    const now = (clock.now = live + HOUR);
    const slow = duringMerge(rt, async () => void (clock.now += LEASE_MS + 1000));
    expect(await detectInterval(slow, metricSet, live, now)).toEqual({ kind: "lease-expired" });
    expect((await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head.through).toBe(live - HOUR);
    expect(await rt.records.get("executions", executionKey(metricSet, live))).toMatchObject({ Status: "IN_PROGRESS" });
    expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("processed");
    expect(await rt.records.get("executions", executionKey(metricSet, live))).toMatchObject({ Status: "COMPLETED" });
  });

  it("leaves the commit of the run that took its interval over: its model, its COMPLETED record and its done mark", async () => {
    const { rt, metricSet, live, clock } = await activeShop(1);
    const now = (clock.now = live + HOUR);
    const head = headUri(metricSetRoot(rt.resultsRoot, metricSet));
    let committed: Uint8Array | undefined;
    const slow = duringMerge(rt, async () => {
      clock.now += LEASE_MS + 1000;
      expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("processed");
      committed = await rt.blobs.get(head);
    });
    expect(await detectInterval(slow, metricSet, live, now)).toEqual({ kind: "already-processed" });
    expect(await rt.blobs.get(head)).toEqual(committed);
    expect(await rt.records.get("executions", executionKey(metricSet, live))).toMatchObject({ Status: "COMPLETED" });
    expect(await rt.records.get("leases", executionKey(metricSet, live))).toEqual(DONE_MARK);
  });

  it("and then fails, leaves that run's COMPLETED record and done mark: the interval is not run again", async () => {
    const { rt, metricSet, live, clock } = await activeShop(1);
    const now = (clock.now = live + HOUR);
    const slow = duringMerge(rt, async () => {
      clock.now += LEASE_MS + 1000;
      expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("processed");
      throw new Error("the results store went away");
    });
    await expect(detectInterval(slow, metricSet, live, now)).rejects.toThrow("the results store went away");
    expect(await rt.records.get("executions", executionKey(metricSet, live))).toMatchObject({ Status: "COMPLETED" });
    expect(await rt.records.get("leases", executionKey(metricSet, live))).toEqual(DONE_MARK);
    expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("already-processed");
  });
});

describe("a catch-up of several intervals", () => {
  it("claims each interval's lease at the time it has reached, not the time it started at", async () => {
    const { rt, metricSet, live, clock } = await activeShop(2);
    const now = (clock.now = live + 2 * HOUR);
    const terms = new Map<string, number>();
    const records = new Proxy(rt.records, {
      get: (target, key) =>
        key === "claim"
          ? async (...args: Parameters<RecordStore["claim"]>) => {
              terms.set(args[0], args[1]);
              return target.claim(...args);
            }
          : Reflect.get(target, key, target),
    });
    // The first interval's merge takes ten minutes.
    const slow = duringMerge({ ...rt, records }, async () => void (clock.now += 10 * 60_000));
    const { runs } = await detectMetricSet(slow, metricSet, now);
    expect(runs.map((r) => [r.intervalStart, r.outcome.kind])).toEqual([
      [live, "processed"],
      [live + HOUR, "processed"],
    ]);
    expect(terms.get(executionKey(metricSet, live))).toBe(now + LEASE_MS);
    expect(terms.get(executionKey(metricSet, live + HOUR))).toBe(now + 10 * 60_000 + LEASE_MS);
  });
});

describe("learning a history that outlives its lease", () => {
  it("leaves the model committed by the run that took the history over: it does not take its model back to the history's end", async () => {
    const { rt, metricSet, live, clock } = await activeShop(1);
    const now = (clock.now = live + HOUR);
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    let committed: Uint8Array | undefined;
    // The history's kept points are written just before its commit.
    const slow = duringWrite(rt, "series.bin", async () => {
      clock.now += LEASE_MS + 1000;
      expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("processed");
      committed = await rt.blobs.get(headUri(root));
    });
    expect(await detectInterval(slow, metricSet, live, now)).toEqual({ kind: "in-progress" });
    expect(await rt.blobs.get(headUri(root))).toEqual(committed);
    expect((await readModel(rt.blobs, root))!.head.through).toBe(live);
  });
});
