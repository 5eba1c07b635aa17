import { randomUUID } from "node:crypto";
import { signerOf, startFakeAwsServer } from "./aws-server.ts";

/**
 * A local Lambda speaking the rest-json protocol of Invoke
 * (`POST /2015-03-31/functions/{name}/invocations`): it records each payload with its
 * invocation type and signer and answers 202 to an asynchronous ("Event") call, as Lambda does.
 * Unknown functions get ResourceNotFoundException; unsigned requests are refused.
 */
export interface Invocation {
  readonly functionName: string;
  readonly invocationType: string;
  readonly payload: string;
  /** Who signed the Invoke (signerOf). */
  readonly accessKeyId: string;
  readonly sessionToken: string | null;
}

export async function startFakeLambda(functions: string[]): Promise<{ endpoint: string; invocations: Invocation[] }> {
  const invocations: Invocation[] = [];
  const json = (status: number, body: unknown, type?: string) => ({ status, contentType: "application/json", body: JSON.stringify(body), headers: { "x-amzn-requestid": randomUUID(), ...(type ? { "x-amzn-errortype": type } : {}) } });
  const endpoint = await startFakeAwsServer(
    (headers, body, { method, path }) => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(path);
      if (method !== "POST" || !m) return json(404, { message: `no route ${method} ${path}` }, "UnknownOperationException");
      const functionName = decodeURIComponent(m[1]!);
      if (!functions.includes(functionName)) return json(404, { Type: "User", message: `Function not found: ${functionName}` }, "ResourceNotFoundException");
      invocations.push({ functionName, invocationType: String(headers["x-amz-invocation-type"] ?? "RequestResponse"), payload: body, ...signerOf(headers) });
      return { status: 202, contentType: "application/json", body: "" };
    },
    () => json(403, { message: "Missing Authentication Token" }, "MissingAuthenticationTokenException"),
  );
  return { endpoint, invocations };
}
