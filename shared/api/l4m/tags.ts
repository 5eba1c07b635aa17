import * as z from "../../model/zod.ts";
import { listTags, tagResource, untagResource } from "../../app/index.ts";
import { Arn } from "../../model/shapes.ts";
import { nothing, op } from "./operation.ts";

/**
 * `/tags/{resourceArn}`: GET lists, POST tags, DELETE untags (`?tagKeys=`). The router
 * builds each body from the path and query; L4M's wire name for TagResource's Tags is "tags".
 */
const TagKeys = z.array(z.string().check(z.minLength(1), z.maxLength(128))).check(z.minLength(1, "must name at least one tag"), z.maxLength(50));

export const tagOperations = {
  ListTagsForResource: op(z.strictObject({ ResourceArn: Arn }), (s, req, { scope }) => listTags(s, scope, req.ResourceArn), (Tags) => ({ Tags })),
  TagResource: op(
    z.strictObject({ ResourceArn: Arn, tags: z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(256))).check(z.refine((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 50, "must hold 1 to 50 tags")) }),
    (s, req, { scope }) => tagResource(s, scope, req.ResourceArn, req.tags),
    nothing,
  ),
  UntagResource: op(z.strictObject({ ResourceArn: Arn, TagKeys }), (s, req, { scope }) => untagResource(s, scope, req.ResourceArn, req.TagKeys), nothing),
};

