// Loaded on first use by runtime/aws.ts: reading a tenant's bucket as its role (STS and S3).
export { S3Client } from "@aws-sdk/client-s3";
export { STSClient } from "@aws-sdk/client-sts";
export { assumedRoleFiles } from "../assumed-role.ts";
