import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { inputUri } from "../detect/results.ts";
import type { ShardMessage } from "../app/shard-queue.ts";
import type { HandedRun, ShardRunner } from "../app/services.ts";
import type { ShardJob } from "../detect/shard-job.ts";
import type { BlobStore } from "../store/blobs.ts";

/** SQS takes at most ten messages per batch. */
const BATCH = 10;
/** Inputs written at once. */
const UPLOADS = 8;

/**
 * The AWS mode's shard runner: a run's jobs go onto the shard queue, one message each
 * (their inputs written beside the run's plan first, as a message holds at most 256 KB),
 * and the shard function takes them from there (functions/shard/handler.ts); the job that
 * finds itself the last one done queues the merge on the same queue.
 */
export class SqsShardRunner implements ShardRunner {
  readonly handsOver = true;

  constructor(
    private readonly sqs: () => Promise<SQSClient>,
    private readonly queueUrl: string,
    private readonly blobs: BlobStore,
    readonly capacity: number,
  ) {}

  async run(jobs: readonly ShardJob[], run: HandedRun): Promise<undefined> {
    const queued: ShardMessage[] = [];
    for (let i = 0; i < jobs.length; i += UPLOADS) {
      const chunk = jobs.slice(i, i + UPLOADS);
      queued.push(
        ...(await Promise.all(
          chunk.map(async (job): Promise<ShardMessage> => {
            if (job.input.kind !== "interval" || !("bytes" in job.input.cells)) return { kind: "shard", run, job };
            const uri = inputUri(run.work, job.target);
            await this.blobs.put(uri, job.input.cells.bytes);
            return { kind: "shard", run, job: { ...job, input: { kind: "interval", cells: { uri } } } };
          }),
        )),
      );
    }
    await this.send(queued);
    return undefined;
  }

  async queueMerge(run: HandedRun): Promise<void> {
    await this.send([{ kind: "merge", run }]);
  }

  private async send(messages: readonly ShardMessage[]): Promise<void> {
    const client = await this.sqs();
    for (let i = 0; i < messages.length; i += BATCH) {
      const chunk = messages.slice(i, i + BATCH);
      const out = await client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: chunk.map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) })) }));
      if (out.Failed?.length) throw new Error(`SQS refused ${out.Failed.length} shard messages: ${out.Failed.map((f) => `${f.Code} ${f.Message ?? ""}`).join("; ")}`);
    }
  }
}
