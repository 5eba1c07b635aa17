// Loaded on first use by runtime/aws.ts: only what names here is bundled into this part.
export { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
export { SSMClient } from "@aws-sdk/client-ssm";
export { AwsSecrets } from "../../channels/common/secrets.ts";
