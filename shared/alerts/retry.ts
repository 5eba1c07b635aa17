import type { SendResult } from "./channel.ts";

/**
 * Bounded retries with exponential backoff and full jitter (AWS's "Exponential Backoff
 * and Jitter"): the n-th wait is uniform in [0, min(cap, base·2ⁿ)). A receiver's
 * Retry-After is honoured as asked, up to `maxRetryAfterMs`; asked for longer, the
 * delivery stops here and is parked, to be replayed.
 */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly capMs: number;
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseMs: 1_000, capMs: 20_000, maxRetryAfterMs: 60_000 };

export interface RetryTimer {
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/** The wait before attempt `attempt + 1` after `result`, or undefined to stop. */
export function backoff(policy: RetryPolicy, attempt: number, result: Exclude<SendResult, { ok: true }>, random: () => number): number | undefined {
  if (!result.retryable || attempt >= policy.maxAttempts) return undefined;
  if (result.retryAfterMs !== undefined) return result.retryAfterMs <= policy.maxRetryAfterMs ? result.retryAfterMs : undefined;
  return Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1)));
}

export async function sendWithRetry(send: () => Promise<SendResult>, policy: RetryPolicy, clock: RetryTimer, signal: AbortSignal): Promise<{ result: SendResult; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    const result = await send();
    if (result.ok) return { result, attempts: attempt };
    const wait = signal.aborted ? undefined : backoff(policy, attempt, result, clock.random);
    if (wait === undefined) return { result, attempts: attempt };
    await clock.sleep(wait, signal);
  }
}
