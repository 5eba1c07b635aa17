import { failed, type SendResult } from "../../alerts/channel.ts";

/** An AWS SDK error as a send result: throttling and 5xx are worth another try, the rest is final. */
export function classifyAwsError(e: unknown): SendResult {
  const err = e as { name?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const retryable = !!err.$retryable || status === undefined || status >= 500 || status === 429 || /Throttl/i.test(err.name ?? "");
  return failed(retryable, "AWS", `${err.name ?? "Error"}: ${err.message ?? String(e)}`);
}
