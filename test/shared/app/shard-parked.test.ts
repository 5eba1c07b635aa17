import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { activateDetector, describeDetector, detectDue, OPERATOR, type Services } from "../../../shared/app/index.ts";
import type { HandedRun } from "../../../shared/app/services.ts";
import { parkedMessage } from "../../../shared/app/shard-parked.ts";
import { failureUri } from "../../../shared/detect/results.ts";
import type { ShardJob } from "../../../shared/detect/shard-job.ts";
import { csvOf, HOUR, localAt, shopOnFiles, shopPoints, T0, tempDir } from "../../builders.ts";

describe("a shard job or merge the shard queue gave up on", () => {
  it("fails an activation whose history's shard failed on every attempt, with the reason, and does not learn the history again at every run", async () => {
    const dir = await tempDir();
    const clock = { now: T0 + 7 * 24 * HOUR };
    const rt = localAt(join(dir, "vigil"), () => clock.now);
    const files = join(dir, "files");
    // Series enough that their keys fall into several of the spill's partitions: shards of one series each, handed to the queue.
    const series = Array.from({ length: 8 }, (_, i) => ({ platform: "web", marketplace: `m${i}`, base: 100 + 10 * i }));
    await rt.blobs.put(join(files, "history", "all.csv"), csvOf(shopPoints(T0, 7 * 24, series)));
    const { detector } = await shopOnFiles(rt, files);
    await activateDetector(rt, OPERATOR, detector.AnomalyDetectorArn);
    const handed: { jobs: readonly ShardJob[]; run: HandedRun }[] = [];
    const services: Services = { ...rt, shards: { capacity: 1, handsOver: true, run: async (jobs, run) => void handed.push({ jobs, run }) } };

    expect(await detectDue(services, clock.now)).toEqual([]);
    expect(handed).toHaveLength(1);
    const { jobs, run } = handed[0]!;
    expect(jobs.length).toBeGreaterThan(1);
    // Its last attempt recorded why it failed, as the shard function does; then the queue moved it to its dead letters.
    await rt.blobs.put(failureUri(run.work, `s${jobs[0]!.target}`), JSON.stringify({ reason: "the shard ran out of memory" }));
    expect(await parkedMessage(services, { kind: "shard", run, job: jobs[0]! }, clock.now)).toBe(true);

    expect(await describeDetector(rt, OPERATOR, detector.AnomalyDetectorArn)).toMatchObject({ Status: "FAILED", FailureType: "ACTIVATION_FAILURE", FailureReason: expect.stringContaining("failed on every attempt: the shard ran out of memory") });
    // The next run reads and hands no history again (it stayed ACTIVATING, and did, at every run).
    clock.now += HOUR;
    expect(await detectDue(services, clock.now)).toEqual([]);
    expect(handed).toHaveLength(1);
  });
});
