// Loaded on first use by runtime/aws.ts: only what names here is bundled into this part.
export { S3Client } from "@aws-sdk/client-s3";
export { S3BlobStore } from "../../store/s3-blobs.ts";
