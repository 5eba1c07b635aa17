import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { activateDetector, detectDue, OPERATOR, type Services } from "../../../shared/app/index.ts";
import type { HandedRun } from "../../../shared/app/services.ts";
import { shardMessage } from "../../../shared/app/shard-queue.ts";
import { metricSetRoot } from "../../../shared/detect/results.ts";
import type { ShardJob } from "../../../shared/detect/shard-job.ts";
import { readModel, readShard } from "../../../shared/detect/shard-model.ts";
import { csvOf, HOUR, localAt, shopOnFiles, shopPoints, T0, tempDir } from "../../builders.ts";

/** A shop whose history is learned in several shards handed to a queue that keeps them: each message is then given by the test. */
async function handedHistory() {
  const dir = await tempDir();
  const clock = { now: T0 + 7 * 24 * HOUR };
  const rt = localAt(join(dir, "vigil"), () => clock.now);
  const files = join(dir, "files");
  const series = Array.from({ length: 8 }, (_, i) => ({ platform: "web", marketplace: `m${i}`, base: 100 + 10 * i }));
  await rt.blobs.put(join(files, "history", "all.csv"), csvOf(shopPoints(T0, 7 * 24, series)));
  const { detector, metricSet } = await shopOnFiles(rt, files);
  await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
  const handed: { jobs: readonly ShardJob[]; run: HandedRun }[] = [];
  const services: Services = { ...rt, shards: { capacity: 4, handsOver: true, run: async (jobs, run) => void handed.push({ jobs, run }) } };
  expect(await detectDue(services, clock.now)).toEqual([]);
  expect(handed).toHaveLength(1);
  return { services, clock, root: metricSetRoot(rt.resultsRoot, metricSet), ...handed[0]! };
}

describe("the shard queue's messages", () => {
  it("leave a committed model as it is when a history's shard job is given again after its run was merged (at least once delivery)", async () => {
    const { services, clock, root, jobs, run } = await handedHistory();
    expect(jobs.length).toBeGreaterThan(1);
    // Each job once; the last one done merges (no merge queue): the model is committed, the run's work folder goes.
    for (const job of jobs) await shardMessage(services, { kind: "shard", run, job }, clock.now);
    const model = (await readModel(services.blobs, root))!;
    const written = model.shards.filter((s) => s.id === jobs[0]!.target);
    expect(written).toEqual([expect.objectContaining({ series: expect.any(Number) })]);
    expect(written[0]!.series).toBeGreaterThan(0);
    const read = () => Promise.all(written.map((s) => readShard(services.blobs, root, s.version, s.id, HOUR)));
    const before = await read();

    // The first job's message comes again: its spill is gone with its run.
    await shardMessage(services, { kind: "shard", run, job: jobs[0]! }, clock.now);

    const after = await read();
    expect(after.map((bank) => bank.size)).toEqual(written.map((s) => s.series));
    expect(after.map((bank) => bank.serialize())).toEqual(before.map((bank) => bank.serialize()));
  });
});
