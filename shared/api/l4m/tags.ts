import * as z from "zod";
import { listTags, tagResource, untagResource } from "../../app/index.ts";
import { Arn } from "../../model/shapes.ts";
import { nothing, op } from "./operation.ts";

/**
 * `/tags/{resourceArn}`: GET lists, POST tags, DELETE untags (`?tagKeys=`). The router
 * builds each body from the path and query; L4M's wire name for TagResource's Tags is "tags".
 */
const TagKeys = z.array(z.string().min(1).max(128)).min(1, "must name at least one tag").max(50);

export const tagOperations = {
  ListTagsForResource: op(z.strictObject({ ResourceArn: Arn }), (s, req, { scope }) => listTags(s, scope, req.ResourceArn), (Tags) => ({ Tags })),
  TagResource: op(
    z.strictObject({ ResourceArn: Arn, tags: z.record(z.string().min(1).max(128), z.string().max(256)).refine((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 50, "must hold 1 to 50 tags") }),
    (s, req, { scope }) => tagResource(s, scope, req.ResourceArn, req.tags),
    nothing,
  ),
  UntagResource: op(z.strictObject({ ResourceArn: Arn, TagKeys }), (s, req, { scope }) => untagResource(s, scope, req.ResourceArn, req.TagKeys), nothing),
};

