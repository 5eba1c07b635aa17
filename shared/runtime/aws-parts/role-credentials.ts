// Loaded on first use by runtime/aws.ts: assuming tenants' roles (STS).
export { STSClient } from "@aws-sdk/client-sts";
export { roleCredentials } from "../role-credentials.ts";
