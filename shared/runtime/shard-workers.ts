import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ShardRunner } from "../app/services.ts";
import { runShard, ShardFailed, type ShardJob, type ShardResult } from "../detect/shard-job.ts";
import type { BlobStore } from "../store/blobs.ts";
import type { WorkerReply } from "./shard-worker.ts";

/** How often a shard job is tried before its run fails. */
export const SHARD_ATTEMPTS = 3;

export interface WorkerRunnerOptions {
  readonly capacity: number;
  /** Worker threads (the machine's cores by default); 0: every job here, one after another. */
  readonly workers?: number;
  /** Where jobs run when no worker script is found beside this module (a bundle that did not ship one): here, one after another. */
  readonly blobs: BlobStore;
}

/** What the runner saw of its workers' memory: the most one job held in one worker. */
export interface WorkerMemory {
  readonly heap: number;
  readonly external: number;
}

/**
 * The worker script: the source beside this module when it runs as TypeScript (tests, which
 * let Node strip the types), the bundle's own `shard-worker.mjs` when it runs bundled.
 */
function workerScript(): { url: URL; execArgv?: string[] } | undefined {
  const typescript = import.meta.url.endsWith(".ts");
  const url = new URL(typescript ? "./shard-worker.ts" : "./shard-worker.mjs", import.meta.url);
  if (url.protocol !== "file:" || !existsSync(fileURLToPath(url))) return undefined;
  return typescript ? { url, execArgv: ["--experimental-transform-types", "--disable-warning=ExperimentalWarning"] } : { url };
}

/**
 * A shard job's young generation: most of what it makes (a cell's keys, a point's numbers)
 * dies within the shard, and in V8's default 16 MB semi-spaces a fifth of its time went to
 * collecting and promoting it.
 */
const YOUNG_GENERATION_MB = 96;

interface Slot {
  worker: Worker;
  busy: boolean;
}

/**
 * The local mode's shard runner: a run's jobs on a pool of worker threads, one job per
 * worker at a time, each job tried SHARD_ATTEMPTS times (a worker that died is replaced)
 * before the run fails with ShardFailed. Workers are made on first use and kept, unreferenced,
 * for the next run: they never keep the process alive.
 */
export class WorkerShardRunner implements ShardRunner {
  readonly capacity: number;
  readonly handsOver = false;
  private readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly script: ReturnType<typeof workerScript>;
  private next = 0;
  private peak: WorkerMemory = { heap: 0, external: 0 };

  constructor(private readonly options: WorkerRunnerOptions) {
    this.capacity = options.capacity;
    this.size = options.workers ?? availableParallelism();
    this.script = this.size > 0 ? workerScript() : undefined;
  }

  /** The most memory one job held in one worker so far. */
  get peakMemory(): WorkerMemory {
    return this.peak;
  }

  async run(jobs: readonly ShardJob[]): Promise<ShardResult[]> {
    if (!this.script) {
      const results: ShardResult[] = [];
      for (const job of jobs) results.push(await this.attempt(job, (j) => runShard(this.options.blobs, j)));
      return results;
    }
    const results = new Array<ShardResult>(jobs.length);
    let taken = 0;
    const lane = async () => {
      while (taken < jobs.length) {
        const i = taken++;
        results[i] = await this.attempt(jobs[i]!, (job) => this.onWorker(job));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.size, jobs.length)) }, lane));
    return results;
  }

  /** Ends every worker (tests, and a process that is done with detection). */
  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private async attempt(job: ShardJob, run: (job: ShardJob) => Promise<ShardResult>): Promise<ShardResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(job);
      } catch (e) {
        if (attempt >= SHARD_ATTEMPTS) throw new ShardFailed(job.target, attempt, e instanceof Error ? e.message : String(e));
      }
    }
  }

  private slot(): Slot {
    const free = this.slots.find((s) => !s.busy);
    if (free) return free;
    const { url, execArgv } = this.script!;
    const slot: Slot = { worker: new Worker(url, { ...(execArgv ? { execArgv } : {}), resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }), busy: false };
    slot.worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** One job on a free worker; a worker that dies on it is dropped, and the attempt fails. */
  private onWorker(job: ShardJob): Promise<ShardResult> {
    const slot = this.slot();
    slot.busy = true;
    const id = this.next++;
    return new Promise<ShardResult>((resolve, reject) => {
      const done = () => {
        slot.worker.off("message", onMessage);
        slot.worker.off("error", onError);
        slot.worker.off("exit", onExit);
        slot.busy = false;
      };
      const drop = () => {
        const at = this.slots.indexOf(slot);
        if (at >= 0) this.slots.splice(at, 1);
      };
      const onMessage = (reply: WorkerReply) => {
        if (reply.id !== id) return;
        done();
        if (reply.memory.heap + reply.memory.external > this.peak.heap + this.peak.external) this.peak = reply.memory;
        if (reply.error !== undefined) reject(new Error(reply.error));
        else resolve(reply.result!);
      };
      const onError = (e: Error) => {
        done();
        drop();
        void slot.worker.terminate();
        reject(e);
      };
      const onExit = (code: number) => {
        done();
        drop();
        reject(new Error(`the shard's worker thread exited with code ${code}`));
      };
      slot.worker.on("message", onMessage);
      slot.worker.once("error", onError);
      slot.worker.once("exit", onExit);
      slot.worker.ref();
      // Copied, not transferred: a job tried again needs its input still.
      slot.worker.postMessage({ id, job });
    }).finally(() => {
      if (this.slots.includes(slot)) slot.worker.unref();
    });
  }
}
