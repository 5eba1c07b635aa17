import { InternalServerException, ValidationException, VigilError } from "../model/errors.ts";

/**
 * The API as plain data in and out, served the same by the `api` Lambda (HTTP API) and,
 * later, `vigil serve`: L4M's rest-json convention, `POST /<Operation>` with a JSON body,
 * errors as `{__type, Message, …}` with `x-amzn-errortype`. Only 4xx errors say what went
 * wrong; anything else is an InternalServerException carrying the request id alone.
 */
export interface ApiRequest {
  readonly method: string;
  /** Percent-encoded, as received. */
  readonly path: string;
  readonly query?: string;
  readonly body: string;
  readonly requestId: string;
  /** Who signed the request, when the edge checked a signature. */
  readonly principal?: { readonly tenant: string };
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** One operation: the parsed JSON body in, the response body out. */
export type Operation = (input: unknown, request: ApiRequest) => Promise<unknown>;

export interface Routes {
  readonly get?: Readonly<Record<string, (request: ApiRequest) => Promise<unknown>>>;
  readonly post: Readonly<Record<string, Operation>>;
  /** `/tags/{resourceArn}`: GET lists, POST tags, DELETE untags (`?tagKeys=`). */
  readonly tags?: Readonly<Partial<Record<"GET" | "POST" | "DELETE", (resourceArn: string, input: unknown, request: ApiRequest) => Promise<unknown>>>>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

export function errorResponse(error: unknown, requestId: string): ApiResponse {
  const known = error instanceof VigilError && error.httpStatus < 500 ? error : new InternalServerException(`Internal error; request id ${requestId}`);
  return json(known.httpStatus, known.toJSON(), { "x-amzn-errortype": known.code, "x-amzn-requestid": requestId });
}

const own = <T>(table: Readonly<Record<string, T>> | undefined, key: string): T | undefined => (table && Object.hasOwn(table, key) ? table[key] : undefined);

function parseBody(body: string): unknown {
  if (body.trim() === "") return {};
  try {
    return JSON.parse(body);
  } catch {
    throw new ValidationException("The request body is not JSON", { reason: "CANNOT_PARSE" });
  }
}

export function router(routes: Routes, onError: (error: unknown, request: ApiRequest) => void = () => {}): (request: ApiRequest) => Promise<ApiResponse> {
  return async (request) => {
    try {
      const name = request.path.replace(/^\/+|\/+$/g, "");
      if (name.startsWith("tags/") && routes.tags) {
        const handler = own(routes.tags, request.method);
        if (!handler) return json(405, { __type: "UnknownOperationException", Message: `${request.method} is not allowed on /tags` }, { "x-amzn-errortype": "UnknownOperationException" });
        const input = request.method === "POST" ? parseBody(request.body) : {};
        return json(200, await handler(decodeURIComponent(name.slice("tags/".length)), input, request), { "x-amzn-requestid": request.requestId });
      }
      // Own properties only: a path like /valueOf must not reach Object.prototype.
      const get = request.method === "GET" ? own(routes.get, name) : undefined;
      if (get) return json(200, await get(request), { "x-amzn-requestid": request.requestId });
      const op = request.method === "POST" ? own(routes.post, name) : undefined;
      if (!op) {
        const known = Object.hasOwn(routes.post, name) || Object.hasOwn(routes.get ?? {}, name);
        const message = known ? `${request.method} is not allowed on /${name}` : `No operation at ${request.method} /${name}`;
        return json(known ? 405 : 404, { __type: "UnknownOperationException", Message: message }, { "x-amzn-errortype": "UnknownOperationException", "x-amzn-requestid": request.requestId });
      }
      return json(200, await op(parseBody(request.body), request), { "x-amzn-requestid": request.requestId });
    } catch (e) {
      if (!(e instanceof VigilError) || e.httpStatus >= 500) onError(e, request);
      return errorResponse(e, request.requestId);
    }
  };
}
