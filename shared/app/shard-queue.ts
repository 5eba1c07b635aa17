import { metricSetRoot } from "../detect/results.ts";
import { encodeShardResult, runShard, type ShardJob } from "../detect/shard-job.ts";
import { ValidationException } from "../model/errors.ts";
import type { MetricSetArn } from "../model/ids.ts";
import { joinUri } from "../model/location.ts";
import { failureReasonOf, failureUri, mergeRun, parkRun, resultUri, type DetectServices, type DueRun } from "./detect.ts";
import type { HandedRun, Services } from "./services.ts";

/**
 * The shard queue's messages (AWS: SQS with the Lambda event source; docs/scaling.md): a
 * run's shard jobs, each answered by a result beside the run's plan, and the run's merge,
 * queued by whichever job finds itself the last one done.
 */
export type ShardMessage = { readonly kind: "shard"; readonly run: HandedRun; readonly job: ShardJob } | { readonly kind: "merge"; readonly run: HandedRun };

type QueueServices = DetectServices & Pick<Services, "shards" | "region" | "clock" | "observer">;

/**
 * Handles one message: a job runs (unless its result is written already: the message came
 * again after the job), its result or the reason it failed is written, and when every job
 * of the run has a result the merge is queued (or run here, without a queue to put it on).
 * A failure is thrown, so the queue gives the message again, and parks it in the end.
 */
export async function shardMessage(services: QueueServices, message: ShardMessage, now: number): Promise<DueRun[]> {
  confine(services, message);
  const { run } = message;
  if (message.kind === "merge") return recordingFailure(services, run, "merge", () => mergeRun(services, run.work, now));
  const { job } = message;
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

/** A message the queue gave up on (its dead-letter queue): the run's interval is FAILED with the reason its step last gave. */
export async function parkedMessage(services: DetectServices, message: ShardMessage, now: number): Promise<boolean> {
  confine(services, message);
  return parkRun(services, message.run.work, message.kind === "merge" ? "merge" : `s${message.job.target}`, now);
}

async function recordingFailure<T>(services: DetectServices, run: HandedRun, step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    await services.blobs.put(failureUri(run.work, step), JSON.stringify({ reason: failureReasonOf(e) }));
    throw e;
  }
}

/** A message reads and writes its own metric set's results folder, and nothing else. */
function confine(services: Pick<Services, "resultsRoot">, message: ShardMessage): void {
  const root = metricSetRoot(services.resultsRoot, { MetricSetArn: message.run.metricSetArn as MetricSetArn });
  const inside = (uri: string) => uri.startsWith(`${root}/`) && !uri.split(/[\\/]/).includes("..");
  const uris = [message.run.work];
  if (message.kind === "shard") {
    const { job } = message;
    if (job.metricSet.MetricSetArn !== message.run.metricSetArn || job.root !== root) throw new ValidationException(`The shard message's job is not of metric set ${message.run.metricSetArn}`);
    uris.push(...(job.input.kind === "history" ? job.input.spills : "uri" in job.input.cells ? [job.input.cells.uri] : []));
  }
  const outside = uris.find((uri) => !inside(uri));
  if (outside !== undefined) throw new ValidationException(`The shard message names ${outside}, outside its metric set's results`);
}
