import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { Sender } from "../alerts/channel.ts";
import type { DeadLetters, DeliveryQueue } from "../alerts/delivery.ts";
import { silentObserver, type Clock, type Observer, type Services } from "../app/index.ts";
import type { Channel } from "../model/alert.ts";
import { ValidationException } from "../model/errors.ts";
import { DynamoRecordStore } from "../store/dynamo-records.ts";
import type { EventPublisher } from "../store/events.ts";
import { LocalBlobStore } from "../store/local-blobs.ts";
import { RoutingBlobStore } from "../store/routing-blobs.ts";
import { S3BlobStore } from "../store/s3-blobs.ts";
import type { RuntimeConfig } from "./config.ts";
import { assumedRoleFiles } from "./assumed-role.ts";
import { deliveryGate, realSleep, senders } from "./senders.ts";
import { alertSettingsOf } from "./settings.ts";

type AwsConfig = Extract<RuntimeConfig, { VIGIL_MODE: "aws" }>;

export interface AwsOptions {
  readonly clock?: Clock;
  readonly observer?: Observer;
  /** The running function's ARN (Lambda's context): the events topic shares its partition, region and account. */
  readonly invokedFunctionArn?: () => string | undefined;
}

/** Made once, on first use: a function that never sends email or reads CloudWatch never loads those clients. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** DNS suffix of each partition's endpoints. */
const DNS_SUFFIX: Readonly<Record<string, string>> = { aws: "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com" };

/** A queue's URL: given, or completed from its name and the running function's ARN (partition, region, account). */
function queueUrl(config: AwsConfig, key: "VIGIL_DELIVERY_QUEUE_URL" | "VIGIL_DEAD_LETTER_QUEUE_URL", functionArn: string | undefined): string {
  const given = config[key];
  if (given) return given;
  const name = config[key === "VIGIL_DELIVERY_QUEUE_URL" ? "VIGIL_DELIVERY_QUEUE" : "VIGIL_DEAD_LETTER_QUEUE"];
  const [, partition = "aws", , region, account] = functionArn?.split(":") ?? [];
  if (!name || !region || !account) throw new ValidationException(`Bad Vigil settings: ${key} is required here`, { fields: [{ Name: key, Message: "is required (or the queue's name, in a function)" }] });
  return `https://sqs.${region}.${DNS_SUFFIX[partition] ?? "amazonaws.com"}/${account}/${name}`;
}

/** An SDK client per region an ARN names, made once. */
function perRegion<C>(make: (region: string) => C, fallback: string): (arn: string) => C {
  const made = new Map<string, C>();
  return (arn) => {
    const region = arn.split(":")[3] || fallback;
    if (!made.has(region)) made.set(region, make(region));
    return made.get(region)!;
  };
}

/**
 * The AWS mode: records in DynamoDB, files and models in S3, anomaly group events on SNS,
 * deliveries on SQS with a dead-letter queue, senders with AWS clients and secrets from
 * Secrets Manager or SSM. Clients are made once per process; those only some functions
 * need are made on first use.
 */
export function awsServices(config: AwsConfig, options: AwsOptions = {}): Services {
  const region = config.AWS_REGION;
  const clock = options.clock ?? Date.now;
  const alertSettings = alertSettingsOf(config);
  const sqs = once(async () => new (await import("@aws-sdk/client-sqs")).SQSClient({ region }));
  const sns = once(async () => new (await import("@aws-sdk/client-sns")).SNSClient({ region }));

  // The topic's ARN shares the function's partition, region and account.
  const topicArn = () => {
    const [, partition, , fnRegion, account] = options.invokedFunctionArn?.()?.split(":") ?? [];
    return config.VIGIL_EVENTS_TOPIC && account ? `arn:${partition}:sns:${fnRegion}:${account}:${config.VIGIL_EVENTS_TOPIC}` : undefined;
  };
  const publisher = once(async () => new (await import("../store/sns-events.ts")).SnsEventPublisher(await sns(), topicArn));
  const events: EventPublisher = { publish: async (event) => (await publisher()).publish(event) };

  const queue = once(async () => new (await import("../store/sqs-deliveries.ts")).SqsDeliveryQueue(await sqs(), queueUrl(config, "VIGIL_DELIVERY_QUEUE_URL", options.invokedFunctionArn?.())));
  const deliveryQueue: DeliveryQueue = { enqueue: async (deliveries) => (await queue()).enqueue(deliveries) };
  const parked = once(async () => new (await import("../store/sqs-deliveries.ts")).SqsDeadLetters(await sqs(), queueUrl(config, "VIGIL_DEAD_LETTER_QUEUE_URL", options.invokedFunctionArn?.()), clock));
  const deadLetters: DeadLetters = { park: async (p) => (await parked()).park(p), drain: async (retry) => (await parked()).drain(retry) };

  const secrets = once(async () => {
    const [{ AwsSecrets }, { SecretsManagerClient }, { SSMClient }] = await Promise.all([import("../channels/common/secrets.ts"), import("@aws-sdk/client-secrets-manager"), import("@aws-sdk/client-ssm")]);
    let secretsManager: InstanceType<typeof SecretsManagerClient> | undefined;
    let ssm: InstanceType<typeof SSMClient> | undefined;
    return new AwsSecrets({ secretsManager: () => (secretsManager ??= new SecretsManagerClient({ region })), ssm: () => (ssm ??= new SSMClient({ region })) }, clock);
  });
  const awsSenders = once(async () => {
    const [{ SnsSender }, { LambdaSender }, { LambdaClient }, { SNSClient }] = await Promise.all([import("../channels/sns/sender.ts"), import("../channels/lambda/sender.ts"), import("@aws-sdk/client-lambda"), import("@aws-sdk/client-sns")]);
    return {
      sns: new SnsSender(perRegion((r) => new SNSClient({ region: r }), region), alertSettings.timeoutsMs.sns),
      lambda: new LambdaSender(perRegion((r) => new LambdaClient({ region: r }), region), alertSettings.timeoutsMs.lambda),
    };
  });
  const aws: Sender<Extract<Channel, { kind: "sns" | "lambda" }>> = {
    send: async (message, channel, signal) => {
      const made = await awsSenders();
      return channel.kind === "sns" ? made.sns.send(message, channel, signal) : made.lambda.send(message, channel, signal);
    },
  };
  const cloudwatch = once(async () => {
    const [{ cloudWatchSource }, { CloudWatchClient }] = await Promise.all([import("../sources/cloudwatch.ts"), import("@aws-sdk/client-cloudwatch")]);
    return cloudWatchSource(new CloudWatchClient({ region }));
  });

  const sts = once(async () => new (await import("@aws-sdk/client-sts")).STSClient({ region }));

  return {
    records: new DynamoRecordStore(new DynamoDBClient({ region }), config.VIGIL_TABLE),
    blobs: new RoutingBlobStore({ local: new LocalBlobStore(), s3: new S3BlobStore(new S3Client({ region })) }),
    // Customer data is read as the role its metric set names, never with the function's own.
    dataFiles: assumedRoleFiles({ sts, s3With: (credentials) => new S3Client({ region, credentials }), clock }),
    dataRootsOf: () => [],
    resultsRoot: config.VIGIL_RESULTS_ROOT,
    events,
    deliveryQueue,
    deadLetters,
    senders: senders({ settings: alertSettings, secrets: { resolve: async (value) => (await secrets()).resolve(value) }, blockPrivateAddresses: true, aws, clock }),
    deliveryGate: deliveryGate(),
    sources: { cloudwatch: { kind: "cloudwatch", readInterval: async (metricSet, start, period) => (await cloudwatch()).readInterval(metricSet, start, period) } },
    alertSettings,
    region: { partition: "aws", region },
    clock,
    linkClock: clock,
    timer: { sleep: realSleep, random: Math.random },
    observer: options.observer ?? silentObserver,
  };
}
