import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { DeliverDeps } from "../alerts/deliver.ts";
import { buildAlertPipeline, type AlertVerdict } from "../alerts/route.ts";
import { Catalog } from "../catalog/catalog.ts";
import { LambdaSender } from "../channels/lambda/sender.ts";
import { AwsSecrets } from "../channels/common/secrets.ts";
import { SnsSender } from "../channels/sns/sender.ts";
import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { ValidationException } from "../model/errors.ts";
import { DynamoRecordStore } from "../store/dynamo-records.ts";
import { SqsDeadLetters, SqsDeliveryQueue } from "../store/sqs-deliveries.ts";
import { deliverDepsOf, senders } from "./alerting.ts";
import { alertSettingsOf } from "./alert-settings.ts";
import type { RuntimeConfig } from "./config.ts";

type AwsConfig = Extract<RuntimeConfig, { VIGIL_MODE: "aws" }>;

/** The alert and deliver functions' adapters in AWS; clients are made once, at cold start. */
function required<K extends "VIGIL_DELIVERY_QUEUE_URL" | "VIGIL_DEAD_LETTER_QUEUE_URL">(config: AwsConfig, key: K): string {
  const value = config[key];
  if (!value) throw new ValidationException(`Bad Vigil settings: ${key} is required here`, { fields: [{ Name: key, Message: "is required" }] });
  return value;
}

function base(config: AwsConfig) {
  const records = new DynamoRecordStore(new DynamoDBClient({ region: config.AWS_REGION }), config.VIGIL_TABLE);
  return { records, catalogAt: (now: () => number) => new Catalog({ records, scope: { partition: "aws", region: config.AWS_REGION, accountId: config.VIGIL_ACCOUNT_ID ?? "000000000000" }, now }) };
}

/** alert: anomaly group events in, deliveries onto the delivery queue. */
export function awsRouting(config: AwsConfig): (event: AnomalyGroupEvent, now: number) => Promise<AlertVerdict[]> {
  const { records, catalogAt } = base(config);
  const queue = new SqsDeliveryQueue(new SQSClient({ region: config.AWS_REGION }), required(config, "VIGIL_DELIVERY_QUEUE_URL"));
  const settings = alertSettingsOf(config);
  return (event, now) => {
    const catalog = catalogAt(() => now);
    return buildAlertPipeline({ records, alertsOf: (arn) => catalog.listAlerts(arn), queue, publicUrl: settings.publicUrl, linkSecret: settings.linkSecret, repeatMs: settings.repeatMs, now })(event);
  };
}

/** An SDK client per region an alert's ARN names, made once. */
function perRegion<C>(make: (region: string) => C, fallback: string): (arn: string) => C {
  const made = new Map<string, C>();
  return (arn) => {
    const region = arn.split(":")[3] || fallback;
    if (!made.has(region)) made.set(region, make(region));
    return made.get(region)!;
  };
}

/** deliver: the channels with AWS clients, parking on the dead-letter queue. */
export function awsDelivery(config: AwsConfig, now: () => number): { deliver: DeliverDeps; deadLetters: SqsDeadLetters } {
  const { records, catalogAt } = base(config);
  const region = config.AWS_REGION;
  const settings = alertSettingsOf(config);
  const deadLetters = new SqsDeadLetters(new SQSClient({ region }), required(config, "VIGIL_DEAD_LETTER_QUEUE_URL"), now);
  let secretsManager: SecretsManagerClient | undefined;
  let ssm: SSMClient | undefined;
  const secrets = new AwsSecrets({ secretsManager: () => (secretsManager ??= new SecretsManagerClient({ region })), ssm: () => (ssm ??= new SSMClient({ region })) }, now);
  const sns = new SnsSender(perRegion((r) => new SNSClient({ region: r }), region), settings.timeoutsMs.sns);
  const lambda = new LambdaSender(perRegion((r) => new LambdaClient({ region: r }), region), settings.timeoutsMs.lambda);
  const aws = { send: (m: Parameters<SnsSender["send"]>[0], c: Parameters<SnsSender["send"]>[1] | Parameters<LambdaSender["send"]>[1], signal: AbortSignal) => (c.kind === "sns" ? sns.send(m, c, signal) : lambda.send(m, c, signal)) };
  const deliver = deliverDepsOf({ records, catalog: catalogAt(now), senders: senders({ settings, secrets, blockPrivateAddresses: true, aws, now }), deadLetters, settings, now });
  return { deliver, deadLetters };
}
