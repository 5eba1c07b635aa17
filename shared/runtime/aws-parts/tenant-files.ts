// Loaded on first use by runtime/aws.ts: reading a tenant's bucket as its role (S3).
export { S3Client } from "@aws-sdk/client-s3";
export { assumedRoleFiles } from "../assumed-role.ts";
