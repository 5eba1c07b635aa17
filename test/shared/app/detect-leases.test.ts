import { describe, expect, it } from "vitest";
import { COMMIT_MARGIN_MS, detectMetricSet, executionKey, LEASE_MS, loadModel } from "../../../shared/app/detect.ts";
import { detectDue, detectInterval, type Services } from "../../../shared/app/index.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import { headUri, readModel } from "../../../shared/detect/shard-model.ts";
import type { AnomalyGroupEvent } from "../../../shared/model/anomaly-event.ts";
import type { BlobStore } from "../../../shared/store/blobs.ts";
import type { RecordStore } from "../../../shared/store/records.ts";
import { realSleep } from "../../../shared/runtime/senders.ts";
import { serviceObserver } from "../../../shared/runtime/service/observe.ts";
import { activeShop, duringWrite, HOUR } from "../../builders.ts";

/**
 * A run holds its interval by a lease with a term (LEASE_MS). One that outlives it (a slow
 * store, a paused process) may find the interval taken over by another run: it must not
 * commit over that run's work, nor, failing, mark its COMPLETED interval to be run again or
 * remove its done mark. The services' clock is moved on while a run merges.
 */


/** The services, with `during` run once as a run writes its interval's anomalies: its merge under way, before its records and its commit. */
const duringMerge = (rt: Services, during: () => Promise<void>) => duringWrite(rt, "anomalies.jsonl", during);

const DONE_MARK = { until: Number.MAX_SAFE_INTEGER };

/**
 * A shop whose history is learned and whose live interval's two series go to a queue, one a
 * shard (`handed` counts them); `onFirstListing` runs as the run first lists the interval's
 * files, before it hands its shards over.
 */
async function handingShop() {
  const { rt, metricSet, live, clock, now, key } = await learnedShop();
  const dataFiles = duringFirstListing(rt, () => shop.onFirstListing());
  const shards = { capacity: 1, handsOver: true, run: async () => void shop.handed++ };
  const shop = { rt, services: { ...rt, dataFiles, shards }, metricSet, live, now, clock, key, handed: 0, onFirstListing: async () => {} };
  return shop;
}

/** The services' data files, with `during` run once, as a run first lists a metric set's files. */
function duringFirstListing(rt: Services, during: () => Promise<void>): Services["dataFiles"] {
  let listed = false;
  return (grant) => {
    const files = rt.dataFiles(grant);
    return {
      ...files,
      list: async (prefix) => {
        if (!listed) {
          listed = true;
          await during();
        }
        return files.list(prefix);
      },
    };
  };
}

/**
 * A timer whose sleeps end when the test says: `wake` ends the sleep under way, if any, and
 * answers once the next one has begun (so what the sleeper did in between is done).
 */
function steppedTimer(): { timer: Services["timer"]; wake: () => Promise<void> } {
  let asleep: (() => void) | undefined;
  let began: (() => void) | undefined;
  const timer: Services["timer"] = {
    random: Math.random,
    sleep: (_ms, signal) =>
      new Promise<void>((resolve) => {
        asleep = resolve;
        signal.addEventListener(
          "abort",
          () => {
            asleep = undefined;
            resolve();
          },
          { once: true },
        );
        began?.();
      }),
  };
  const wake = async () => {
    const sleeping = asleep;
    if (!sleeping) return;
    asleep = undefined;
    const next = new Promise<void>((resolve) => (began = resolve));
    sleeping();
    await next;
  };
  return { timer, wake };
}

/** Twenty-five minutes of the real clock pass, five at a time, the timer woken at each. */
const twentyFiveMinutes = (clock: { now: number }, wake: () => Promise<void>) => async () => {
  for (let i = 0; i < 5; i++) {
    clock.now += 5 * 60_000;
    await wake();
  }
};

/** A shop whose history is learned, its live interval due: `now` is its end. */
async function learnedShop() {
  const shop = await activeShop({ liveHours: 1 });
  const now = (shop.clock.now = shop.live + HOUR);
  await loadModel(shop.rt, shop.metricSet, shop.live, now);
  return { ...shop, now, key: executionKey(shop.metricSet, shop.live) };
}

/** The services' records, with `before` awaited before each update of lease `key` and `after` called once it is written. */
function aroundLeaseUpdates(records: RecordStore, key: string, hooks: { before?: () => Promise<void>; after?: () => void }): RecordStore {
  return new Proxy(records, {
    get: (target, name) =>
      name === "update"
        ? async (...args: Parameters<RecordStore["update"]>) => {
            const lease = args[0] === "leases" && args[1] === key;
            if (lease) await hooks.before?.();
            const answer = await target.update(...args);
            if (lease) hooks.after?.();
            return answer;
          }
        : Reflect.get(target, name, target),
  });
}

/** Two weeks of history, then a collapse: the live interval opens a group. */
const collapsedShop = () => activeShop({ liveHours: 1, historyHours: 14 * 24, tweak: (p) => ({ ...p, views: 1, revenue: 0.01 }) });

describe("a run that works here longer than one term", () => {
  it("keeps its lease while it works, and commits", async () => {
    const { rt, metricSet, live, clock, now, key } = await learnedShop();
    const { timer, wake } = steppedTimer();
    // Reading the interval's files takes longer than a term.
    const dataFiles = duringFirstListing(rt, twentyFiveMinutes(clock, wake));
    expect(await detectInterval({ ...rt, timer, dataFiles }, metricSet, live, now)).toMatchObject({ kind: "processed" });
    expect((await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head.through).toBe(live);
  });

  it("learning a history, keeps its lease while it reads, and commits the model", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
    const now = (clock.now = live + HOUR);
    const { timer, wake } = steppedTimer();
    const dataFiles = duringFirstListing(rt, twentyFiveMinutes(clock, wake));
    expect(await loadModel({ ...rt, timer, dataFiles }, metricSet, live, now)).toMatchObject({ learned: 24 });
    expect((await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head.through).toBe(live - HOUR);
  });

  it("goes on at once when it stops keeping its lease while an extension is being written, not a keeping period later", { timeout: 15_000 }, async () => {
    const { rt, metricSet, live, clock, now, key } = await learnedShop();
    // The keeper's first sleep ends when the test says; every later one is the process's own sleep.
    let first: { resolve: () => void; signal: AbortSignal } | undefined;
    const timer: Services["timer"] = { random: Math.random, sleep: (ms, signal) => (first ? realSleep(ms, signal) : new Promise<void>((resolve) => (first = { resolve, signal }))) };
    // The extension lands only once the run has stopped its keeper (its round trip outlasts the rest of the run's work).
    const records = aroundLeaseUpdates(rt.records, key, {
      before: async () => {
        if (first && !first.signal.aborted) await new Promise<void>((resolve) => first!.signal.addEventListener("abort", () => resolve(), { once: true }));
      },
    });
    const dataFiles = duringFirstListing(rt, async () => {
      clock.now += 5 * 60_000;
      first!.resolve();
    });
    expect(await detectInterval({ ...rt, records, timer, dataFiles }, metricSet, live, now)).toMatchObject({ kind: "processed" });
  });

  it("stops keeping it before it writes its results: a keeper's turn during them moves nothing under the run, which commits", async () => {
    const { rt, metricSet, live, clock, now, key } = await learnedShop();
    const { timer, wake } = steppedTimer();
    const slow = duringMerge({ ...rt, timer }, async () => {
      clock.now += 5 * 60_000;
      await wake();
    });
    expect(await detectInterval(slow, metricSet, live, now)).toMatchObject({ kind: "processed" });
  });

  it("keeps nothing where runs end with their term (a Lambda invocation): the lease is as claimed", async () => {
    const { rt, metricSet, live, clock, now, key } = await learnedShop();
    const { timer, wake } = steppedTimer();
    const dataFiles = duringFirstListing(rt, twentyFiveMinutes(clock, wake));
    expect(await detectInterval({ ...rt, timer, dataFiles, keepsLeases: false }, metricSet, live, now)).toEqual({ kind: "lease-expired" });
  });

  it("writes no extension over a lease another run has taken over: it commits nothing, and leaves the interval to that run", async () => {
    const { rt, metricSet, live, clock, now, key } = await learnedShop();
    const { timer, wake } = steppedTimer();
    let extended: (() => void) | undefined;
    const records = aroundLeaseUpdates(rt.records, key, { after: () => extended?.() });
    const dataFiles = duringFirstListing(rt, async () => {
      // Another run holds the interval now (as after a pause past the term).
      await rt.records.put("leases", key, { until: clock.now + 10 * LEASE_MS });
      clock.now += 5 * 60_000;
      const tried = new Promise<void>((resolve) => (extended = resolve));
      void wake();
      await tried;
    });
    expect(await detectInterval({ ...rt, records, timer, dataFiles }, metricSet, live, now)).toEqual({ kind: "in-progress" });
    expect(await rt.records.get("leases", key)).toEqual({ until: now + 10 * LEASE_MS });
    expect((await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head.through).toBe(live - HOUR);
  });
});

describe("a run that outlives its lease", () => {
  it("commits nothing, and the interval is taken over and run again by the next run", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
    const now = (clock.now = live + HOUR);
    const slow = duringMerge(rt, async () => void (clock.now += LEASE_MS + 1000));
    expect(await detectInterval(slow, metricSet, live, now)).toEqual({ kind: "lease-expired" });
    expect((await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head.through).toBe(live - HOUR);
    expect(await rt.records.get("executions", executionKey(metricSet, live))).toMatchObject({ Status: "IN_PROGRESS" });
    expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("processed");
    expect(await rt.records.get("executions", executionKey(metricSet, live))).toMatchObject({ Status: "COMPLETED" });
  });

  it("commits nothing with less of its lease left than its last writes may take, and gives it back", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
    const now = (clock.now = live + HOUR);
    const slow = duringMerge(rt, async () => void (clock.now += LEASE_MS - COMMIT_MARGIN_MS / 2));
    expect(await detectInterval(slow, metricSet, live, now)).toEqual({ kind: "lease-expired" });
    expect(await rt.records.get("executions", executionKey(metricSet, live))).toMatchObject({ Status: "IN_PROGRESS" });
    // Its lease is given back: the next run need not wait for it to run out.
    expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("processed");
  });

  it("hands no shard over once its lease was taken over: its extension is written only while the lease is its own", async () => {
    const shop = await handingShop();
    // Reading the interval's files outlasts the lease, and another run takes the interval over.
    shop.onFirstListing = async () => {
      shop.clock.now += LEASE_MS + 1000;
      expect(await shop.rt.records.claim(shop.key, shop.clock.now + LEASE_MS, shop.clock.now)).toBe(true);
    };
    expect(await detectInterval(shop.services, shop.metricSet, shop.live, shop.now)).toEqual({ kind: "lease-expired" });
    expect(shop.handed).toBe(0);
    expect(await shop.rt.records.get("leases", shop.key)).toEqual({ until: shop.clock.now + LEASE_MS });
  });

  it("hands no shard over, and writes no lease, once its lease is gone from under it", async () => {
    const shop = await handingShop();
    shop.onFirstListing = async () => void (await shop.rt.records.delete("leases", shop.key));
    expect(await detectInterval(shop.services, shop.metricSet, shop.live, shop.now)).toEqual({ kind: "lease-expired" });
    expect(shop.handed).toBe(0);
    expect(await shop.rt.records.get("leases", shop.key)).toBeUndefined();
  });

  it("commits nothing once its lease is gone from under it (released, as a restart releases stale ones): it cannot tell who took it since", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
    const now = (clock.now = live + HOUR);
    const slow = duringMerge(rt, async () => void (await rt.records.delete("leases", executionKey(metricSet, live))));
    expect(await detectInterval(slow, metricSet, live, now)).toEqual({ kind: "lease-expired" });
    expect((await readModel(rt.blobs, metricSetRoot(rt.resultsRoot, metricSet)))!.head.through).toBe(live - HOUR);
    expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("processed");
  });

  it("is counted by its outcome where operators watch it", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
    const now = (clock.now = live + HOUR);
    const observer = serviceObserver();
    const slow = duringMerge({ ...rt, observer }, async () => void (clock.now += LEASE_MS + 1000));
    const { runs } = await detectMetricSet(slow, metricSet, now);
    expect(runs.map((r) => r.outcome.kind)).toEqual(["lease-expired"]);
    const counted = (await observer.registry.getSingleMetric("vigil_intervals_total")!.get()).values;
    expect(counted.find((v) => v.labels["outcome"] === "lease-expired")?.value).toBe(1);
  });

  it("leaves the commit of the run that took its interval over: its model, its COMPLETED record and its done mark", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
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
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
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

describe("a run that fails as its lease runs out", () => {
  it("leaves the IN_PROGRESS record of the run that took its interval over between its check of the lease and its record", async () => {
    const { rt, metricSet, live, clock, now, key } = await learnedShop();
    // The run that takes over is held at its first listing of the interval's files, its IN_PROGRESS written.
    let heldAtListing!: () => void;
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (heldAtListing = resolve));
    const goOn = new Promise<void>((resolve) => (letGo = resolve));
    const takerFiles = duringFirstListing(rt, async () => {
      heldAtListing();
      await goOn;
    });
    let taker: ReturnType<typeof detectInterval> | undefined;
    let failing = false;
    // The failing run reads its lease as its own; its term runs out, and the interval is taken over, before it writes its record.
    const records = new Proxy(rt.records, {
      get: (target, name) =>
        name === "get"
          ? async (...args: Parameters<RecordStore["get"]>) => {
              const answer = await target.get(...args);
              if (failing && args[0] === "leases" && args[1] === key) {
                failing = false;
                clock.now += LEASE_MS + 1000;
                taker = detectInterval({ ...rt, dataFiles: takerFiles }, metricSet, live, clock.now);
                await held;
              }
              return answer;
            }
          : Reflect.get(target, name, target),
    });
    const failingRun = duringMerge({ ...rt, records }, async () => {
      failing = true;
      throw new Error("the results store went away");
    });
    await expect(detectInterval(failingRun, metricSet, live, now)).rejects.toThrow("the results store went away");
    expect(await rt.records.get("executions", key)).toMatchObject({ Status: "IN_PROGRESS" });
    letGo();
    expect((await taker!).kind).toBe("processed");
    expect(await rt.records.get("executions", key)).toMatchObject({ Status: "COMPLETED" });
  });
});

describe("a run whose lease runs out while it writes its results", () => {
  it("writes no group and announces nothing: the run that takes the interval over does, once", async () => {
    const { rt, metricSet, live, clock } = await collapsedShop();
    const now = (clock.now = live + HOUR);
    const announced: AnomalyGroupEvent[] = [];
    const events = { publish: async (e: AnomalyGroupEvent) => void announced.push(e) };
    // The interval's data quality is its last result written before its group.
    const slow = duringWrite({ ...rt, events }, "quality.json", async () => void (clock.now += LEASE_MS + 1000));
    expect(await detectInterval(slow, metricSet, live, now)).toEqual({ kind: "lease-expired" });
    expect(await rt.records.list("groups")).toEqual([]);
    expect(announced).toEqual([]);
    const next = await detectInterval({ ...rt, events }, metricSet, live, clock.now);
    expect(next.kind === "processed" && next.group !== undefined).toBe(true);
    expect(await rt.records.list("groups")).toHaveLength(1);
    expect(announced.map((e) => e.type)).toEqual(["AnomalyGroupChanged"]);
  });
});

describe("a run that stalls while it announces its group", () => {
  it("past its lease, leaves the commit of the run that took the interval over: its record and its model, whose shards it would have collected", async () => {
    const { rt, metricSet, live, clock } = await collapsedShop();
    const now = (clock.now = live + HOUR);
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    let committed: Uint8Array | undefined;
    let stalled = false;
    const events = {
      publish: async () => {
        if (stalled) return;
        stalled = true;
        clock.now += LEASE_MS + 1000;
        expect((await detectInterval(rt, metricSet, live, clock.now)).kind).toBe("processed");
        committed = await rt.blobs.get(headUri(root));
      },
    };
    expect(await detectInterval({ ...rt, events }, metricSet, live, now)).toEqual({ kind: "already-processed" });
    expect(await rt.blobs.get(headUri(root))).toEqual(committed);
    expect((await readModel(rt.blobs, root))!.head.through).toBe(live);
  });
});

describe("a simulated clock, whose hours pass in moments", () => {
  it("does not run a lease out: leases are timed by the real clock", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
    const now = (clock.now = live + HOUR);
    // Two simulated hours pass while the run merges; the real clock stands still.
    const simulated = duringMerge({ ...rt, linkClock: () => now }, async () => void (clock.now += 2 * HOUR));
    expect((await detectInterval(simulated, metricSet, live, now)).kind).toBe("processed");
  });
});

describe("a catch-up of several intervals", () => {
  it("claims each interval's lease at the clock's time, not the time the invocation was given", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 2 });
    const now = live + 2 * HOUR;
    // The invocation was given its trigger's time, twenty minutes late (a retried invocation).
    clock.now = now + 20 * 60_000;
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
    expect(terms.get(executionKey(metricSet, live))).toBe(now + 20 * 60_000 + LEASE_MS);
    expect(terms.get(executionKey(metricSet, live + HOUR))).toBe(now + 30 * 60_000 + LEASE_MS);
  });
});

describe("learning a history that outlives its lease", () => {
  it("leaves the model committed by the run that took the history over: it does not take its model back to the history's end", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 1 });
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

describe("two invocations one interval apart", () => {
  it("the first, collecting the versions its commit no longer names, leaves the next interval's, which another invocation ran meanwhile", async () => {
    const { rt, metricSet, live, clock } = await activeShop({ liveHours: 4 });
    await detectDue(rt, live);
    clock.now = live + 2 * HOUR;
    const root = metricSetRoot(rt.resultsRoot, metricSet);
    const meanwhile: string[] = [];
    let once = true;
    // Invocation A has committed hour `live` and lists the model's folder; invocation B reads that commit and runs hour live + 1 first.
    const a: Services = { ...rt, blobs: new Proxy(rt.blobs, {
      get: (target, key) =>
        key === "list"
          ? async (prefix: string) => {
              if (once && prefix.startsWith(`${root}/model`)) {
                once = false;
                for (const r of await detectDue(rt, clock.now)) meanwhile.push(`${(r.intervalStart - live) / HOUR}:${r.outcome.kind}`);
              }
              return target.list(prefix);
            }
          : Reflect.get(target, key, target),
    }) };
    const first = (await detectDue(a, clock.now)).map((r) => `${(r.intervalStart - live) / HOUR}:${r.outcome.kind}`);
    expect(meanwhile).toEqual(["1:processed"]);
    expect(first[0]).toBe("0:processed");
    const head = (await readModel(rt.blobs, root))!;
    const listed = await rt.blobs.list(`${root}/model/`);
    expect(head.shards.filter((s) => s.version !== "" && !listed.some((f) => f.includes(`/model/${s.version}/`)))).toEqual([]);
    clock.now = live + 3 * HOUR;
    expect((await detectDue(rt, clock.now)).map((r) => r.outcome.kind)).toEqual(["processed"]);
  });
});
