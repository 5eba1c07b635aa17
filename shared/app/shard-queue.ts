import { failureUri, planUri, resultUri, tenantFailureReason } from "../detect/results.ts";
import { encodeShardResult, runShard, type ShardJob } from "../detect/shard-job.ts";
import { arnAccount } from "../model/ids.ts";
import { joinUri } from "../model/location.ts";
import type { DetectServices, DueRun } from "./detect.ts";
import type { HandedRun, Services } from "./services.ts";
import { confine } from "./shard-confine.ts";

/**
 * The shard queue's messages (AWS: SQS with the Lambda event source; docs/scaling.md): a
 * run's shard jobs, each answered by a result beside the run's plan, and the run's merge,
 * queued by whichever job finds itself the last one done.
 */
export type ShardMessage = { readonly kind: "shard"; readonly run: HandedRun; readonly job: ShardJob } | { readonly kind: "merge"; readonly run: HandedRun };

type QueueServices = DetectServices & Pick<Services, "shards" | "region" | "clock" | "observer">;

/**
 * Handles one message: a job runs (unless its result is written already, or its run is over:
 * the message came again after the job), its result or the reason it failed is written, and when every job
 * of the run has a result the merge is queued (or run here, without a queue to put it on).
 * A failure is thrown, so the queue gives the message again, and parks it in the end.
 */
export async function shardMessage(services: QueueServices, message: ShardMessage, now: number): Promise<DueRun[]> {
  confine(services, message);
  const { run } = message;
  // The merge (with the rest of detection: grouping, events, the model's commit) is loaded by the first merge; a shard job never loads it.
  if (message.kind === "merge") return recordingFailure(services, run, "merge", async () => (await import("./detect.ts")).mergeRun(services, run.work, now));
  const { job } = message;
  // A job given again after its run is over (merged, or parked: its plan goes with its work folder) does nothing: its shard is committed, or never will be.
  if (!(await services.blobs.get(planUri(run.work)))) return [];
  const done = resultUri(run.work, job.target);
  if (!(await services.blobs.get(done))) {
    const result = await recordingFailure(services, run, `s${job.target}`, () => runShard(services.blobs, job));
    await services.blobs.put(done, encodeShardResult(result));
  }
  // Results are listed after this one was written: of the jobs finishing at once, the last one sees them all.
  const finished = await services.blobs.list(`${joinUri(run.work, "results")}/`);
  if (finished.length < run.jobs) return [];
  if (services.shards.queueMerge) {
    await services.shards.queueMerge(run);
    return [];
  }
  return shardMessage(services, { kind: "merge", run }, now);
}


async function recordingFailure<T>(services: DetectServices, run: HandedRun, step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    // Read back into the interval's FailureReason (parkRun), which shows it again as the tenant may see it: no path of the server's here either.
    await services.blobs.put(failureUri(run.work, step), JSON.stringify({ reason: tenantFailureReason(services, arnAccount(run.metricSetArn), e) }));
    throw e;
  }
}
