// Loaded on first use by runtime/aws.ts: only what names here is bundled into this part.
export { LambdaClient } from "@aws-sdk/client-lambda";
export { LambdaSender } from "../../channels/lambda/sender.ts";
