import { fileURLToPath } from "node:url";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import * as z from "../../shared/model/zod.ts";
import { consoleFiles, isConsolePath } from "../../console/server.ts";
import { bodyTooLarge, DEFAULT_LIMITS } from "../../shared/api/http-server.ts";
import { answeredErrors } from "../../shared/api/lambda-errors.ts";
import { isPage, page } from "../../shared/api/pages.ts";
import { router } from "../../shared/api/router.ts";
import { cognitoFromEnv, consoleOperationPath, tokenCall } from "../../shared/api/session.ts";
import { parseOrThrow } from "../../shared/model/validate.ts";
import { configFromEnv } from "../../shared/runtime/config.ts";
import { servicesOnce } from "../../shared/runtime/index.ts";
import { powertoolsObserver, recordedMetrics } from "../../shared/runtime/observability.ts";

/** api: the HTTP API's requests (payload format 2.0; IAM for the SDK's routes, a Cognito ID token for the console's) to the router, and back. */
const observer = powertoolsObserver();
const services = servicesOnce(configFromEnv(process.env), { observer });
const cognito = cognitoFromEnv(process.env);
// The console's files are packaged with the handler (serverless.yml); it signs in with the user pool.
const files = consoleFiles(fileURLToPath(new URL("../../dist/console/", import.meta.url)), cognito.signIn);

const HttpApiEvent = z.looseObject({
  rawPath: z.string(),
  body: z.optional(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
  rawQueryString: z.optional(z.string()),
  headers: z.optional(z.record(z.string(), z.string())),
  requestContext: z.looseObject({
    requestId: z.string(),
    http: z.looseObject({ method: z.string() }),
    // IAM authorisation: the caller's account is its tenant, and the account in its ARNs (the console's routes have a JWT instead).
    authorizer: z.optional(z.looseObject({ iam: z.optional(z.looseObject({ accountId: z.string().check(z.regex(/^\d{12}$/)) })) })),
  }),
});

export async function api(event: unknown) {
  const e = parseOrThrow(HttpApiEvent, event, "HTTP API event");
  const requestId = e.requestContext.requestId;
  // Measured before decoding: the HTTP API caps what it receives, not what base64 decodes to.
  const tooLarge = e.body && Buffer.byteLength(e.body, e.isBase64Encoded ? "base64" : "utf8") > DEFAULT_LIMITS.maxBodyBytes;
  const body = !tooLarge && e.body && e.isBase64Encoded ? Buffer.from(e.body, "base64").toString("utf8") : (e.body ?? "");
  const request = { method: e.requestContext.http.method, path: e.rawPath, query: e.rawQueryString ?? "", body, requestId };
  const [account, s, operation] = [e.requestContext.authorizer?.iam?.accountId, await services(), consoleOperationPath(e.rawPath)];
  const res = tooLarge
    ? bodyTooLarge(DEFAULT_LIMITS.maxBodyBytes, requestId)
    : operation
      ? await tokenCall(cognito.tokens, e.headers ?? {}, requestId, (scope) => router(s)({ ...request, path: operation, scope }))
      : isConsolePath(e.rawPath)
        ? await files(request)
        : isPage(e.rawPath)
          ? await page(s, { ...request, ...(e.headers?.["accept"] ? { accept: e.headers["accept"] } : {}) })
          : await router(s)({ ...request, ...(account ? { scope: { tenant: account, accountId: account } } : {}) });
  return { statusCode: res.status, headers: res.headers, body: res.body };
}

// The figures a request recorded (a replay's deliveries, which the DeliveriesParked alarm counts) published with its answer; what it threw answered as L4M answers.
export const handler = middy(api).use(injectLambdaContext(observer.logger)).use(recordedMetrics(observer.metrics)).use(answeredErrors(observer.logger));
