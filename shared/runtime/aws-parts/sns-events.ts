// Loaded on first use by runtime/aws.ts: only what names here is bundled into this part.
export { SNSClient } from "@aws-sdk/client-sns";
export { SnsEventPublisher } from "../../store/sns-events.ts";
