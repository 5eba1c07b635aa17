import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import * as z from "zod";
import { isPage, page } from "../../shared/api/pages.ts";
import { router } from "../../shared/api/router.ts";
import { routes } from "../../shared/api/routes.ts";
import { parseOrThrow } from "../../shared/model/validate.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { logger } from "../../shared/runtime/observability.ts";
import { runtimeFactory } from "../../shared/runtime/wiring.ts";

/** api: the HTTP API's requests (payload format 2.0, IAM-authorised) to the router, and back. */
const config = configFromEnv(process.env);
const runtimeAt = runtimeFactory(config);
let functionArn: string | undefined;
const serve = router(
  routes((now) => runtimeAt(() => now, functionArn), Date.now),
  (error, request) => logger.error("request failed", { requestId: request.requestId, error: error as Error }),
);

const HttpApiEvent = z.looseObject({
  rawPath: z.string(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  rawQueryString: z.string().optional(),
  requestContext: z.looseObject({
    requestId: z.string(),
    http: z.looseObject({ method: z.string() }),
    // IAM authorisation: the caller's account is its tenant.
    authorizer: z.looseObject({ iam: z.looseObject({ accountId: z.string() }) }).optional(),
  }),
});

export async function api(event: unknown, context?: { invokedFunctionArn?: string }) {
  functionArn = context?.invokedFunctionArn;
  const e = parseOrThrow(HttpApiEvent, event, "HTTP API event");
  const body = e.body && e.isBase64Encoded ? Buffer.from(e.body, "base64").toString("utf8") : (e.body ?? "");
  if (isPage(e.rawPath)) {
    const now = Date.now();
    const res = await page(runtimeAt(() => now, functionArn), config.VIGIL_LINK_SECRET, { method: e.requestContext.http.method, path: e.rawPath, query: e.rawQueryString ?? "", body }, now);
    return { statusCode: res.status, headers: res.headers, body: res.body };
  }
  const tenant = e.requestContext.authorizer?.iam.accountId;
  const res = await serve({ method: e.requestContext.http.method, path: e.rawPath, query: e.rawQueryString ?? "", body, requestId: e.requestContext.requestId, ...(tenant ? { principal: { tenant } } : {}) });
  return { statusCode: res.status, headers: res.headers, body: res.body };
}

export const handler = middy(api).use(injectLambdaContext(logger));
