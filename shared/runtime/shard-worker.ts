import { getHeapStatistics } from "node:v8";
import { parentPort } from "node:worker_threads";
import { runShard, type ShardJob } from "../detect/shard-job.ts";
import { LocalBlobStore } from "../store/local-blobs.ts";
import { RoutingBlobStore } from "../store/routing-blobs.ts";

/**
 * A worker thread of the local mode's shard runner (shard-workers.ts): runs one shard job
 * at a time against local files and answers its result, with the memory it took.
 */
const blobs = new RoutingBlobStore({ local: new LocalBlobStore() });

export interface WorkerReply {
  readonly id: number;
  readonly result?: Awaited<ReturnType<typeof runShard>>;
  readonly error?: string;
  /** The most this thread's heap and the memory its objects hold outside it (typed arrays' buffers) came to during the job. */
  readonly memory: { readonly heap: number; readonly external: number };
}

// The heap's own figures: process.memoryUsage() reads the process's RSS from the system as well, which sampled every 5 ms cost more than a shard's snapshot write.
const used = () => {
  const m = getHeapStatistics();
  return { heap: m.used_heap_size, external: m.external_memory };
};

parentPort?.on("message", (message: { id: number; job: ShardJob }) => {
  // The most the job held, sampled whenever the thread is free (between its reads and writes) and at its end.
  let peak = used();
  const sample = () => {
    const now = used();
    if (now.heap + now.external > peak.heap + peak.external) peak = now;
  };
  const sampler = setInterval(sample, 5);
  const answer = (reply: Omit<WorkerReply, "memory">) => {
    clearInterval(sampler);
    sample();
    parentPort!.postMessage({ ...reply, memory: peak } satisfies WorkerReply);
  };
  runShard(blobs, message.job).then(
    (result) => answer({ id: message.id, result }),
    (e: unknown) => answer({ id: message.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
