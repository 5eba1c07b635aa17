// Loaded on first use by runtime/aws.ts: only what names here is bundled into this part.
export { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
export { cloudWatchSource } from "../../sources/cloudwatch.ts";
