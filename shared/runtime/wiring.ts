import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import type { ArnScope } from "../model/ids.ts";
import { LocalBlobStore } from "../store/local-blobs.ts";
import { DynamoRecordStore } from "../store/dynamo-records.ts";
import { RoutingBlobStore } from "../store/routing-blobs.ts";
import { S3BlobStore } from "../store/s3-blobs.ts";
import type { PulledSource } from "../sources/ingest.ts";
import type { EventPublisher } from "../store/events.ts";
import type { RuntimeConfig } from "./config.ts";
import { localRuntime, runtimeOf, type Runtime } from "./local.ts";

/**
 * The one place that picks adapters for a mode. Clients are made once per process (the
 * caller keeps the returned factory at cold start) and handed to the adapters. Sources a
 * function pulls are passed in by that function, so the others do not bundle their clients.
 */
export function runtimeFactory(
  config: RuntimeConfig,
  sources: { cloudwatch?: (region: string) => PulledSource; events?: (region: string, topicArn: string) => EventPublisher } = {},
): (now: () => number, invokedFunctionArn?: string) => Runtime {
  if (config.VIGIL_MODE === "local") return (now) => localRuntime(config.VIGIL_DATA_DIR, now);
  const s3 = new S3Client({ region: config.AWS_REGION });
  const dynamo = new DynamoDBClient({ region: config.AWS_REGION });
  const records = new DynamoRecordStore(dynamo, config.VIGIL_TABLE);
  const blobs = new RoutingBlobStore({ local: new LocalBlobStore(), s3: new S3BlobStore(s3) });
  const cloudwatch = sources.cloudwatch?.(config.AWS_REGION);
  const publishers = new Map<string, EventPublisher>();
  // The topic's ARN shares the function's partition, region and account.
  const eventsFor = (functionArn: string | undefined): EventPublisher | undefined => {
    const [, partition, , region, account] = functionArn?.split(":") ?? [];
    if (!config.VIGIL_EVENTS_TOPIC || !sources.events || !account) return undefined;
    const topicArn = `arn:${partition}:sns:${region}:${account}:${config.VIGIL_EVENTS_TOPIC}`;
    if (!publishers.has(topicArn)) publishers.set(topicArn, sources.events(config.AWS_REGION, topicArn));
    return publishers.get(topicArn);
  };
  // ARNs carry the account the function runs in, unless the settings name one.
  const scopeOf = (functionArn: string | undefined): ArnScope => {
    const [, partition, , , account] = functionArn?.split(":") ?? [];
    return { partition: partition || "aws", region: config.AWS_REGION, accountId: config.VIGIL_ACCOUNT_ID ?? (account && /^\d{12}$/.test(account) ? account : "000000000000") };
  };
  return (now, functionArn) => {
    const events = eventsFor(functionArn);
    const scope = scopeOf(functionArn);
    return runtimeOf({ records, blobs, resultsRoot: config.VIGIL_RESULTS_ROOT, scope, ...(cloudwatch ? { cloudwatch } : {}), ...(events ? { events } : {}), now });
  };
}
