import type { Senders } from "../alerts/channel.ts";
import type { DeadLetters, DeliveryQueue } from "../alerts/delivery.ts";
import type { DeliveryGate } from "../alerts/gate.ts";
import type { RetryPolicy, RetryTimer } from "../alerts/retry.ts";
import type { ShardJob, ShardResult } from "../detect/shard-job.ts";
import type { ActionIdentity, ChannelKind } from "../model/alert.ts";
import type { BlobStore } from "../store/blobs.ts";
import type { EventPublisher } from "../store/events.ts";
import type { Quotas } from "../model/quotas.ts";
import type { RecordStore } from "../store/records.ts";
import type { PulledSource } from "./ingest.ts";
import type { Observer } from "./observer.ts";

/** Epoch ms of "now". One type for every clock: the real one, a schedule's, a simulation's. */
export type Clock = () => number;

/**
 * Where a record's retention starts (executions, deliveries, notices, notifications, push
 * tokens): the later of the services' clock and the real one. Records are kept for a time
 * of the real clock, so those a simulation writes (the demo, on a clock in 2021) are still
 * there when `vigil serve` opens the same data on the real clock; otherwise they had
 * expired years before they were written. Leases and holds keep the clock they are judged by.
 * Never before `now`, the time a caller read for the record.
 */
export const retentionStart = (clocks: { readonly clock: Clock; readonly linkClock: Clock }, now = -Infinity): number => Math.max(now, clocks.clock(), clocks.linkClock());

/** How alerts are sent, from the settings. */
export interface AlertSettings {
  /** Base URL of the API, for links in messages. */
  readonly publicUrl: string;
  readonly repeatMs: number;
  /** smtp(s)://user:pass@host:port, or a {{resolve:…}} reference to one; none = email cannot be sent. */
  readonly smtpUrl?: string | undefined;
  readonly emailFrom: string;
  /** Signs the links in messages (alerts/links.ts); none = links are not signed and not served. */
  readonly linkSecret?: string | undefined;
  /** How long one attempt on each channel may take before it counts as failed (and is retried). */
  readonly timeoutsMs: Readonly<Record<ChannelKind, number>>;
  readonly policy: RetryPolicy;
}

/** A run whose shard jobs were handed over: where its work is, so the last job to finish can queue its merge. */
export interface HandedRun {
  readonly metricSetArn: string;
  /** The run's work folder (its plan, inputs and results). */
  readonly work: string;
  readonly jobs: number;
}

/**
 * Where a run's shard jobs run when there are several (one runs in the caller): worker
 * threads locally (runtime/shard-workers.ts), the shard queue in AWS (runtime/shard-queue.ts).
 */
export interface ShardRunner {
  /** Most time series one shard may hold: what one worker or one invocation has the memory for. */
  readonly capacity: number;
  /** Whether the jobs run elsewhere (a queue), so that a run's merge comes later. */
  readonly handsOver: boolean;
  /**
   * Runs the jobs to their end and answers their results, in the jobs' order (throwing
   * ShardFailed when one kept failing), or hands them over and answers undefined: the run's
   * merge then runs when the last of them is done.
   */
  run(jobs: readonly ShardJob[], run: HandedRun): Promise<ShardResult[] | undefined>;
  /** Queues a handed run's merge, once its last job is done; without it, the job that finished last merges. */
  queueMerge?(run: HandedRun): Promise<void>;
}

/**
 * Who metric files are read for: a tenant's account, the local folders it was granted, and
 * the role its source names. Files a tenant names are read with this, never with Vigil's
 * own access: its data roots locally, the role (assumed with an ExternalId bound to the
 * account) in AWS.
 */
export interface DataGrant {
  readonly accountId: string;
  /** Local folders the tenant may read; undefined for the operator's own commands, which read where pointed. */
  readonly dataRoots?: readonly string[] | undefined;
  /** The IAM role the source names (S3SourceConfig.RoleArn): what reads its bucket in AWS. */
  readonly roleArn?: string | undefined;
}

/** Metric files as a grant may read them: anything else is refused with an AccessDeniedException naming why. */
export interface DataFiles {
  get(uri: string): Promise<Uint8Array | undefined>;
  /** The file's bytes as they arrive (undefined when there is none): a reader keeps none longer than it needs. */
  read(uri: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Addresses of every file under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Refuses a path the grant may not read, reading nothing: for a source named before its files exist. */
  check(uri: string): Promise<void>;
}

/**
 * Everything the use cases need from the world, whichever mode built it (runtime/local.ts,
 * runtime/aws.ts). Use cases take it as their first argument; nothing else reaches out.
 */
export interface Services {
  readonly records: RecordStore;
  /** Vigil's own files: results, model snapshots, canonical files of pushed and pulled sources. */
  readonly blobs: BlobStore;
  /** A tenant's metric files, read as the grant allows (DataGrant). */
  readonly dataFiles: (grant: DataGrant) => DataFiles;
  /**
   * The data roots of an account, for what the system reads on a tenant's behalf
   * (detection); undefined where the operator alone uses Vigil (the demo, local commands).
   */
  readonly dataRootsOf: (accountId: string) => readonly string[] | undefined;
  /** Folder or s3:// prefix where results and model snapshots are written. */
  readonly resultsRoot: string;
  /** Where detection announces anomaly groups (alerting listens). */
  readonly events: EventPublisher;
  /** Where alerting hands deliveries over (SQS in AWS; sent at once locally). */
  readonly deliveryQueue: DeliveryQueue;
  /** Where deliveries that keep failing wait to be replayed. */
  readonly deadLetters: DeadLetters;
  readonly senders: Senders;
  /** Where every delivery of the process waits its turn within its channel's limits. */
  readonly deliveryGate: Pick<DeliveryGate, "enter">;
  /** Sources Vigil pulls; a mode or function without one says so when asked. */
  readonly sources: { readonly cloudwatch?: PulledSource | undefined };
  /** Where detection runs a metric set's shards. */
  readonly shards: ShardRunner;
  readonly alertSettings: AlertSettings;
  /** Partition and region of the ARNs this deployment mints; the account is the caller's. */
  readonly region: { readonly partition: string; readonly region: string };
  readonly clock: Clock;
  /** The real clock, where `clock` is a simulation's (the demo, `vigil serve --clock-rate`): links in messages expire by it (and webhooks are signed by it, runtime/senders.ts), and detection's leases, which bound how long real work may take, are timed by it. */
  readonly linkClock: Clock;
  readonly timer: RetryTimer;
  /**
   * Whether a detection run keeps its lease past its first term while it works: a process
   * that lives on (the local mode) does; a Lambda invocation, which its timeout ends with the
   * term, does not (a kept lease would hold an interval a killed invocation left).
   */
  readonly keepsLeases: boolean;
  readonly observer: Observer;
  /** L4M's quotas (model/quotas.ts) unless the deployment configured higher ones. */
  readonly quotas?: Quotas | undefined;
  /** Who SNS and Lambda actions are sent as (model/alert.ts): their RoleArn in AWS, Vigil itself (the default) locally. */
  readonly actionsAs?: ActionIdentity | undefined;
  /**
   * Tells the mode's scheduler that work was asked for (a back-test, an activation), so a
   * process that runs the service loop starts it now; where none runs, the next scheduled
   * run picks it up.
   */
  readonly wake?: (() => void) | undefined;
}
