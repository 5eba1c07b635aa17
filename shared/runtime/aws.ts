import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Sender } from "../alerts/channel.ts";
import type { DeadLetters, DeliveryQueue } from "../alerts/delivery.ts";
import { silentObserver, type Observer } from "../app/observer.ts";
import type { Clock, Services } from "../app/services.ts";
import type { PulledSource } from "../app/ingest.ts";
import type { Channel } from "../model/alert.ts";
import { AccessDeniedException, ValidationException } from "../model/errors.ts";
import { arnAccount } from "../model/ids.ts";
import { madeOnFirstUse } from "../model/first-use.ts";
import { withBatchedPuts } from "../store/batched-puts.ts";
import { DynamoRecordStore } from "../store/dynamo-records.ts";
import type { BlobStore } from "../store/blobs.ts";
import type { EventPublisher } from "../store/events.ts";
import { RoutingBlobStore } from "../store/routing-blobs.ts";
import type { RuntimeConfig } from "./config.ts";
import type { ActionClient } from "../channels/common/aws-errors.ts";
import type { Credentials, RoleCredentials } from "./role-credentials.ts";
import { deliveryGate, realSleep, senders } from "./senders.ts";
import { DEFAULT_SHARD_CAPACITY } from "../detect/shards.ts";
import type { ShardRunner } from "../app/services.ts";
import { alertSettingsOf } from "./settings.ts";
import { Lru, ROLE_CACHE_ENTRIES } from "./lru.ts";

type AwsConfig = Extract<RuntimeConfig, { VIGIL_MODE: "aws" }>;

export interface AwsOptions {
  readonly clock?: Clock;
  readonly observer?: Observer;
  /** The running function's ARN (Lambda's context): the events topic shares its partition, region and account. */
  readonly invokedFunctionArn?: () => string | undefined;
}

/** DNS suffix of each partition's endpoints. */
const DNS_SUFFIX: Readonly<Record<string, string>> = { aws: "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com" };

const QUEUE_NAMES = { VIGIL_DELIVERY_QUEUE_URL: "VIGIL_DELIVERY_QUEUE", VIGIL_SHARD_QUEUE_URL: "VIGIL_SHARD_QUEUE" } as const;

/** A queue's URL: given, or completed from its name and the running function's ARN (partition, region, account). */
function queueUrl(config: AwsConfig, key: keyof typeof QUEUE_NAMES, functionArn: string | undefined): string {
  const given = config[key];
  if (given) return given;
  const name = config[QUEUE_NAMES[key]];
  const [, partition = "aws", , region, account] = functionArn?.split(":") ?? [];
  if (!name || !region || !account) throw new ValidationException(`Bad Vigil settings: ${key} is required here`, { fields: [{ Name: key, Message: "is required (or the queue's name, in a function)" }] });
  return `https://sqs.${region}.${DNS_SUFFIX[partition] ?? "amazonaws.com"}/${account}/${name}`;
}

/**
 * An SDK client per region the target's ARN names and role it is sent as, made once: it signs
 * as that role, assumed for the alert's account (role-credentials.ts). The most recently used
 * ROLE_CACHE_ENTRIES are kept: regions and roles are the tenants' to name.
 */
export function asRole<C>(make: (region: string, credentials: () => Promise<Credentials>) => C, fallback: string, roles: RoleCredentials): ActionClient<C> {
  const made = new Lru<C>(ROLE_CACHE_ENTRIES);
  return (arn, roleArn, accountId) => {
    const region = arn.split(":")[3] || fallback;
    return made.of(`${region}\n${roleArn}\n${accountId}`, () => make(region, roles(roleArn, accountId)));
  };
}

/**
 * STS is asked with bounded waits: an AssumeRole that does not answer fails (and, its
 * attempts spent, frees the role's cache for the next caller) instead of holding every
 * read and send of that role. A send gives up sooner, on its own signal.
 */
export const STS_TIMEOUTS = { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true } as const;

/** A blob store made, and its module loaded, on its first use. */
function blobsOnFirstUse(make: () => Promise<BlobStore>): BlobStore {
  const store = madeOnFirstUse(make);
  return {
    get: async (uri) => (await store()).get(uri),
    getRange: async (uri, offset, length) => (await store()).getRange(uri, offset, length),
    read: async (uri) => (await store()).read(uri),
    put: async (uri, body, kind) => (await store()).put(uri, body, kind),
    list: async (prefix) => (await store()).list(prefix),
    deleteFolder: async (folder) => (await store()).deleteFolder(folder),
  };
}

/**
 * The AWS mode: records (parked deliveries among them) in DynamoDB, files and models in S3,
 * anomaly group events on SNS, deliveries on SQS, senders with AWS clients and secrets from
 * Secrets Manager or SSM. Clients are made once per process; those only some functions
 * need are made on first use, each from a module of aws-parts/ naming only what it needs, so
 * the bundler keeps each client in a file of its own and a function that never emails never
 * loads it.
 */
export function awsServices(config: AwsConfig, options: AwsOptions = {}): Services {
  const region = config.AWS_REGION;
  const clock = options.clock ?? Date.now;
  const alertSettings = alertSettingsOf(config);
  const sqs = madeOnFirstUse(async () => new (await import("./aws-parts/sqs.ts")).SQSClient({ region }));

  // The topic's ARN shares the function's partition, region and account.
  const topicArn = () => {
    const [, partition, , fnRegion, account] = options.invokedFunctionArn?.()?.split(":") ?? [];
    return config.VIGIL_EVENTS_TOPIC && account ? `arn:${partition}:sns:${fnRegion}:${account}:${config.VIGIL_EVENTS_TOPIC}` : undefined;
  };
  const publisher = madeOnFirstUse(async () => {
    const { SNSClient, SnsEventPublisher } = await import("./aws-parts/sns-events.ts");
    return new SnsEventPublisher(new SNSClient({ region }), topicArn);
  });
  const events: EventPublisher = { publish: async (event) => (await publisher()).publish(event) };

  const queue = madeOnFirstUse(async () => new (await import("./aws-parts/sqs.ts")).SqsDeliveryQueue(await sqs(), queueUrl(config, "VIGIL_DELIVERY_QUEUE_URL", options.invokedFunctionArn?.())));
  const deliveryQueue: DeliveryQueue = { enqueue: async (deliveries) => (await queue()).enqueue(deliveries) };
  // Puts of one turn share BatchWriteItem requests (a batch's deliveries record what they sent together).
  const records = withBatchedPuts(new DynamoRecordStore(new DynamoDBClient({ region }), config.VIGIL_TABLE, { now: clock }));
  // Parked deliveries are records too, filed under their account (loaded on first use: detection never parks one).
  const parked = madeOnFirstUse(async () => new (await import("../store/record-dead-letters.ts")).RecordDeadLetters(records));
  const deadLetters: DeadLetters = { park: async (p) => (await parked()).park(p), holds: async (d) => (await parked()).holds(d), drain: async (retry, options) => (await parked()).drain(retry, options) };

  const s3Blobs = blobsOnFirstUse(async () => {
    const { S3Client, S3BlobStore } = await import("./aws-parts/s3.ts");
    return new S3BlobStore(new S3Client({ region }));
  });

  const secrets = madeOnFirstUse(async () => {
    const { AwsSecrets, SecretsManagerClient, SSMClient } = await import("./aws-parts/secrets.ts");
    let secretsManager: InstanceType<typeof SecretsManagerClient> | undefined;
    let ssm: InstanceType<typeof SSMClient> | undefined;
    return new AwsSecrets({ secretsManager: () => (secretsManager ??= new SecretsManagerClient({ region })), ssm: () => (ssm ??= new SSMClient({ region })) }, clock);
  });
  // A tenant's roles, assumed through STS for its reads and its alerts' actions alike; loaded on first use.
  const tenantRoles = madeOnFirstUse(async () => {
    const { roleCredentials, STSClient } = await import("./aws-parts/role-credentials.ts");
    const sts = new STSClient({ region, requestHandler: STS_TIMEOUTS });
    return roleCredentials({ sts: async () => sts, clock });
  });
  const roles: RoleCredentials = (roleArn, accountId) => async () => (await tenantRoles())(roleArn, accountId)();

  // SNS and Lambda alerts each load their own client, on their first message, and send as the action's RoleArn.
  const snsSender = madeOnFirstUse(async () => {
    const { SNSClient, SnsSender } = await import("./aws-parts/sns-sender.ts");
    return new SnsSender(asRole((r, credentials) => new SNSClient({ region: r, credentials }), region, roles), alertSettings.timeoutsMs.sns);
  });
  const lambdaSender = madeOnFirstUse(async () => {
    const { LambdaClient, LambdaSender } = await import("./aws-parts/lambda-sender.ts");
    return new LambdaSender(asRole((r, credentials) => new LambdaClient({ region: r, credentials }), region, roles), alertSettings.timeoutsMs.lambda);
  });
  const aws: Sender<Extract<Channel, { kind: "sns" | "lambda" }>> = {
    send: async (message, channel, signal) => (channel.kind === "sns" ? (await snsSender()).send(message, channel, signal) : (await lambdaSender()).send(message, channel, signal)),
  };
  // A tenant's CloudWatch, read as the role its metric set names (assumed for its account), one client per role and account: never with the function's own, which reads the account Vigil runs in.
  const cloudwatch = madeOnFirstUse(async () => {
    const { cloudWatchSource, CloudWatchClient } = await import("./aws-parts/cloudwatch.ts");
    const sources = new Lru<PulledSource>(ROLE_CACHE_ENTRIES);
    return (roleArn: string, accountId: string) => sources.of(`${roleArn}\n${accountId}`, () => cloudWatchSource(new CloudWatchClient({ region, credentials: roles(roleArn, accountId) })));
  });
  const admitCloudWatch: NonNullable<PulledSource["admit"]> = (_accountId, source) => {
    if (!source.RoleArn) throw new AccessDeniedException("The metric set names no RoleArn (MetricSource.CloudWatchConfig.RoleArn): Vigil reads a tenant's CloudWatch only as the role its metric set names");
  };
  const pullCloudWatch: PulledSource["readInterval"] = async (metricSet, start, period) => {
    const source = metricSet.MetricSource.CloudWatchConfig ?? {};
    admitCloudWatch(arnAccount(metricSet.MetricSetArn), source);
    return (await cloudwatch())(source.RoleArn!, arnAccount(metricSet.MetricSetArn)).readInterval(metricSet, start, period);
  };

  // A tenant's files: its bucket read as its role; loaded on the first read.
  const tenantFiles = madeOnFirstUse(async () => {
    const { assumedRoleFiles, S3Client } = await import("./aws-parts/tenant-files.ts");
    return assumedRoleFiles({ credentials: roles, s3With: (credentials) => new S3Client({ region, credentials }) });
  });

  // Local paths (a file given by hand) are rare in AWS: their store loads on the first.
  const blobs = new RoutingBlobStore({ local: blobsOnFirstUse(async () => new (await import("../store/local-blobs.ts")).LocalBlobStore()), s3: s3Blobs });
  // Shards run from the shard queue; a function given none runs a run's shards itself, one after another. Loaded on first use.
  const capacity = config.VIGIL_SHARD_SERIES ?? DEFAULT_SHARD_CAPACITY;
  const queued = Boolean(config.VIGIL_SHARD_QUEUE_URL ?? config.VIGIL_SHARD_QUEUE);
  const runner = madeOnFirstUse(async (): Promise<ShardRunner> =>
    queued
      ? new (await import("./shard-queue.ts")).SqsShardRunner(sqs, queueUrl(config, "VIGIL_SHARD_QUEUE_URL", options.invokedFunctionArn?.()), blobs, capacity)
      : new (await import("./shard-workers.ts")).WorkerShardRunner({ capacity, blobs, workers: 0 }),
  );
  const shards: ShardRunner = {
    capacity,
    handsOver: queued,
    run: async (jobs, run) => (await runner()).run(jobs, run),
    ...(queued ? { queueMerge: async (run) => (await runner()).queueMerge?.(run) } : {}),
  };

  return {
    records,
    blobs,
    // Customer data is read as the role its metric set names, never with the function's own.
    dataFiles: (grant) => ({
      get: async (uri) => (await tenantFiles())(grant).get(uri),
      read: async (uri) => (await tenantFiles())(grant).read(uri),
      list: async (prefix) => (await tenantFiles())(grant).list(prefix),
      check: async (uri) => (await tenantFiles())(grant).check(uri),
    }),
    dataRootsOf: () => [],
    resultsRoot: config.VIGIL_RESULTS_ROOT,
    events,
    deliveryQueue,
    deadLetters,
    senders: senders({ settings: alertSettings, secrets: { resolve: async (value, owner) => (await secrets()).resolve(value, owner) }, blockPrivateAddresses: true, aws, wallClock: clock, actionsAs: "role" }),
    deliveryGate: deliveryGate(),
    sources: { cloudwatch: { kind: "cloudwatch", readInterval: pullCloudWatch, admit: admitCloudWatch } },
    shards,
    alertSettings,
    region: { partition: "aws", region },
    actionsAs: "role",
    clock,
    linkClock: clock,
    timer: { sleep: realSleep, random: Math.random },
    keepsLeases: false,
    observer: options.observer ?? silentObserver,
  };
}
