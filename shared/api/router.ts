import type { Scope, Services } from "../app/index.ts";
import { AccessDeniedException, InternalServerException, ServiceUnavailableException, ValidationException, VigilError } from "../model/errors.ts";
import { Arn } from "../model/shapes.ts";
import { jsonOf } from "../model/shared-answers.ts";
import { operations, TAG_OPERATIONS, type Operation } from "./l4m/index.ts";

/**
 * The API as plain data in and out, served the same by the `api` Lambda (HTTP API) and
 * `vigil serve`: L4M's rest-json convention, `POST /<Operation>` with a JSON body,
 * `GET|POST|DELETE /tags/{resourceArn}`, errors as `{__type, Message, …}` with
 * `x-amzn-errortype`. Only 4xx errors say what went wrong; anything else is an
 * InternalServerException carrying the request id alone.
 */
export const VERSION = "0.1.0";

export interface ApiRequest {
  readonly method: string;
  /** Percent-encoded, as received. */
  readonly path: string;
  readonly query?: string;
  readonly body: string;
  readonly requestId: string;
  /** Who calls, as the edge established it (a signature, IAM, a session); none = anonymous. */
  readonly scope?: Scope;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: jsonOf(body),
});

/** `GET /health`: the process answers. */
export const healthAnswer = (requestId: string): ApiResponse => json(200, { status: "ok", version: VERSION }, { "x-amzn-requestid": requestId });

export function errorResponse(error: unknown, requestId: string): ApiResponse {
  // A server error says no more than its request id, but "starting: try again" is meant to be read.
  const known = error instanceof VigilError && (error.httpStatus < 500 || error instanceof ServiceUnavailableException) ? error : new InternalServerException(`Internal error; request id ${requestId}`);
  return json(known.httpStatus, known.toJSON(), { "x-amzn-errortype": known.code, "x-amzn-requestid": requestId });
}

const unknownOperation = (status: number, message: string, requestId: string) =>
  json(status, { __type: "UnknownOperationException", Message: message }, { "x-amzn-errortype": "UnknownOperationException", "x-amzn-requestid": requestId });

function parseBody(body: string): unknown {
  if (body.trim() === "") return {};
  try {
    return JSON.parse(body);
  } catch {
    throw new ValidationException("The request body is not JSON", { reason: "CANNOT_PARSE" });
  }
}

/** `/tags/{arn}`: the operation its method names, and the body it is given. */
function tagCall(request: ApiRequest, arn: string): { name: string; body: unknown } | undefined {
  if (request.method === "GET") return { name: "ListTagsForResource", body: { ResourceArn: arn } };
  if (request.method === "POST") {
    const body = parseBody(request.body);
    return { name: "TagResource", body: typeof body === "object" && body !== null && !Array.isArray(body) ? { ...body, ResourceArn: arn } : body };
  }
  if (request.method === "DELETE") return { name: "UntagResource", body: { ResourceArn: arn, TagKeys: new URLSearchParams(request.query ?? "").getAll("tagKeys") } };
  return undefined;
}

/** `/tags/{resourceArn}`: the ARN as L4M takes it (percent-encoded, at most 256 characters), checked before anything looks it up. */
function decodedArn(encoded: string): string {
  let arn: string;
  try {
    arn = decodeURIComponent(encoded);
  } catch {
    throw new ValidationException("The resource ARN in the path is not valid percent-encoding", { fields: [{ Name: "ResourceArn", Message: "is not valid percent-encoding" }] });
  }
  const problem = Arn.safeParse(arn).error?.issues[0]?.message;
  if (problem) throw new ValidationException(`The resource ARN in the path is not valid: ${problem}`, { fields: [{ Name: "ResourceArn", Message: problem }] });
  return arn;
}

export function router(services: Services): (request: ApiRequest) => Promise<ApiResponse> {
  const run = async (request: ApiRequest, name: string, body: unknown) => {
    // Own properties only: a path like /valueOf must not reach Object.prototype.
    const operation: Operation | undefined = Object.hasOwn(operations, name) ? operations[name] : undefined;
    if (!operation) return unknownOperation(404, `No operation at ${request.method} /${name}`, request.requestId);
    if (!request.scope) throw new AccessDeniedException("The request names no caller");
    return json(200, await operation.handle(services, body, { scope: request.scope, requestId: request.requestId }, name), { "x-amzn-requestid": request.requestId });
  };
  return async (request) => {
    try {
      const name = request.path.replace(/^\/+|\/+$/g, "");
      if (name === "health") {
        if (request.method !== "GET") return unknownOperation(405, `${request.method} is not allowed on /health`, request.requestId);
        return healthAnswer(request.requestId);
      }
      if (name.startsWith("tags/")) {
        const call = tagCall(request, decodedArn(name.slice("tags/".length)));
        if (!call) return unknownOperation(405, `${request.method} is not allowed on /tags`, request.requestId);
        return await run(request, call.name, call.body);
      }
      if (TAG_OPERATIONS.has(name)) return unknownOperation(404, `No operation at ${request.method} /${name}: use /tags/{resourceArn}`, request.requestId);
      if (request.method !== "POST") {
        const known = Object.hasOwn(operations, name);
        return unknownOperation(known ? 405 : 404, known ? `${request.method} is not allowed on /${name}` : `No operation at ${request.method} /${name}`, request.requestId);
      }
      return await run(request, name, parseBody(request.body));
    } catch (e) {
      if (!(e instanceof VigilError) || e.httpStatus >= 500) services.observer.failed("api request", e, { requestId: request.requestId, path: request.path });
      return errorResponse(e, request.requestId);
    }
  };
}
