import { failed, type SendResult } from "../../alerts/channel.ts";
import { AccessDeniedException } from "../../model/errors.ts";

/**
 * The SDK client an SNS or Lambda action is sent with: for the topic's or function's ARN (its
 * region), signing as the action's role assumed for the alert's account (AWS), or as the mode sends.
 */
export type ActionClient<C> = (targetArn: string, roleArn: string, accountId: string) => C;

/**
 * An AWS SDK error as a send result: throttling and 5xx are worth another try, the rest is
 * final; so is a role STS refused to let Vigil assume (its trust policy must change first).
 */
export function classifyAwsError(e: unknown): SendResult {
  if (e instanceof AccessDeniedException) return failed(false, "ROLE", e.message);
  const err = e as { name?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const retryable = !!err.$retryable || status === undefined || status >= 500 || status === 429 || /Throttl/i.test(err.name ?? "");
  return failed(retryable, "AWS", `${err.name ?? "Error"}: ${err.message ?? String(e)}`);
}

/**
 * The SDK call `send` makes with `signal`, given up on when the signal aborts, whatever it
 * waits on: a client resolves its credentials (the role's AssumeRole) before it looks at its
 * abort signal, so a stalled STS would otherwise hold the send. What it later settles to is dropped.
 */
export function untilAborted<T>(signal: AbortSignal, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
  signal.throwIfAborted();
  const sent = send(signal);
  sent.catch(() => {});
  let stop = () => {};
  const aborted = new Promise<never>((_, reject) => {
    stop = () => signal.removeEventListener("abort", abort);
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
  });
  return Promise.race([sent, aborted]).finally(stop);
}
