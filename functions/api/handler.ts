import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import * as z from "zod";
import { bodyTooLarge, DEFAULT_LIMITS } from "../../shared/api/http-server.ts";
import { isPage, page } from "../../shared/api/pages.ts";
import { router } from "../../shared/api/router.ts";
import { parseOrThrow } from "../../shared/model/validate.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver } from "../../shared/runtime/observability.ts";

/** api: the HTTP API's requests (payload format 2.0, IAM-authorised) to the router, and back. */
const observer = powertoolsObserver();
const services = servicesOnce(configFromEnv(process.env), { observer });

const HttpApiEvent = z.looseObject({
  rawPath: z.string(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  rawQueryString: z.string().optional(),
  requestContext: z.looseObject({
    requestId: z.string(),
    http: z.looseObject({ method: z.string() }),
    // IAM authorisation: the caller's account is its tenant, and the account in its ARNs.
    authorizer: z.looseObject({ iam: z.looseObject({ accountId: z.string().regex(/^\d{12}$/) }) }).optional(),
  }),
});

export async function api(event: unknown) {
  const e = parseOrThrow(HttpApiEvent, event, "HTTP API event");
  // Measured before decoding: the HTTP API caps what it receives, not what base64 decodes to.
  if (e.body && Buffer.byteLength(e.body, e.isBase64Encoded ? "base64" : "utf8") > DEFAULT_LIMITS.maxBodyBytes) {
    const res = bodyTooLarge(DEFAULT_LIMITS.maxBodyBytes, e.requestContext.requestId);
    return { statusCode: res.status, headers: res.headers, body: res.body };
  }
  const body = e.body && e.isBase64Encoded ? Buffer.from(e.body, "base64").toString("utf8") : (e.body ?? "");
  const request = { method: e.requestContext.http.method, path: e.rawPath, query: e.rawQueryString ?? "", body };
  const account = e.requestContext.authorizer?.iam.accountId;
  const s = await services();
  const res = isPage(e.rawPath) ? await page(s, request) : await router(s)({ ...request, requestId: e.requestContext.requestId, ...(account ? { scope: { tenant: account, accountId: account } } : {}) });
  return { statusCode: res.status, headers: res.headers, body: res.body };
}

export const handler = middy(api).use(injectLambdaContext(observer.logger));
