import type { FakeSqs } from "./sqs-server.ts";

/**
 * The environment the alert and deliver functions read in AWS mode, every client pointed at
 * the local servers: DynamoDB Local, and the fake SQS, SNS and STS.
 */
export function alertingEnv(table: string, dynamoEndpoint: string, fakes: { readonly sqs: FakeSqs; readonly sns: { readonly endpoint: string }; readonly sts: { readonly endpoint: string } }): Record<string, string> {
  return {
    VIGIL_MODE: "aws",
    VIGIL_TABLE: table,
    VIGIL_RESULTS_ROOT: "s3://metrics/results",
    AWS_REGION: "us-east-1",
    VIGIL_DELIVERY_QUEUE_URL: fakes.sqs.queueUrl("deliveries"),
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: fakes.sqs.endpoint,
    AWS_ENDPOINT_URL_SNS: fakes.sns.endpoint,
    AWS_ENDPOINT_URL_STS: fakes.sts.endpoint,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
  };
}
