// Loaded on first use by runtime/aws.ts: only what names here is bundled into this part.
export { SQSClient } from "@aws-sdk/client-sqs";
export { SqsDeliveryQueue } from "../../store/sqs-deliveries.ts";
