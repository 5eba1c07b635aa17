import type { Logger } from "@aws-lambda-powertools/logger";
import { errorResponse } from "./router.ts";

/** The HTTP API's answer, payload format 2.0. */
export interface HttpApiAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** The request id API Gateway gave an event, when it is one of its events. */
function requestIdOf(event: unknown): string | undefined {
  const id = (event as { requestContext?: { requestId?: unknown } } | null)?.requestContext?.requestId;
  return typeof id === "string" ? id : undefined;
}

/**
 * A middy middleware of the api function: what an invocation threw (a console page or file
 * that could not be read, an event that is not the HTTP API's) is logged and answered as L4M
 * answers an error, a server's saying no more than its request id; thrown out of the
 * function, API Gateway answered its own plain 500 instead.
 */
export function answeredErrors(logger: Logger): { onError: (request: { event: unknown; error: unknown; context: { awsRequestId?: string }; response: HttpApiAnswer | undefined }) => void } {
  return {
    onError: (request) => {
      const requestId = requestIdOf(request.event) ?? request.context.awsRequestId ?? "unknown";
      logger.error("request failed", { requestId, error: request.error instanceof Error ? request.error : new Error(String(request.error)) });
      const answer = errorResponse(request.error, requestId);
      request.response = { statusCode: answer.status, headers: answer.headers, body: answer.body };
    },
  };
}
