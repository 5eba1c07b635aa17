import { blockedReason } from "./address.ts";
import { failed, type SendResult } from "../../alerts/channel.ts";
import { SecretUnavailable, type SecretResolver } from "./secrets.ts";

/**
 * One classifier of HTTP answers for every HTTP channel, as Alertmanager's: 2xx is sent;
 * 5xx, 429 and 408 may pass on a later try (429 and 503 with the Retry-After asked for);
 * any other 4xx will fail again the same way.
 */
export function classifyStatus(status: number, retryAfter: string | null, now: number): SendResult {
  if (status >= 200 && status < 300) return { ok: true };
  const retryable = status >= 500 || status === 429 || status === 408;
  const wait = retryAfterMs(retryAfter, now);
  return failed(retryable, "HTTP_STATUS", `HTTP ${status}`, retryable ? wait : undefined);
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface PostOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly now: () => number;
}

/** POSTs a body and classifies the outcome; a timeout or a network error is retryable. */
export async function post(url: string, body: string, options: PostOptions): Promise<SendResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  try {
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "user-agent": "Vigil", ...options.headers },
      signal: AbortSignal.any([options.signal, timeout]),
      redirect: "manual",
    });
    await res.body?.cancel();
    return classifyStatus(res.status, res.headers.get("retry-after"), options.now());
  } catch (e) {
    if (timeout.aborted) return failed(true, "TIMEOUT", `no answer within ${options.timeoutMs} ms`);
    if (options.signal.aborted) return failed(true, "TIMEOUT", "the invocation ran out of time");
    return failed(true, "NETWORK", e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e));
  }
}

export interface HttpChannelOptions {
  readonly secrets: SecretResolver;
  readonly timeoutMs: number;
  /** AWS mode: refuse URLs that resolve to private, loopback or link-local addresses. */
  readonly blockPrivateAddresses: boolean;
  readonly now: () => number;
}

/**
 * A POST to a URL an alert names (Slack, webhooks): the request is prepared with the
 * alert's secrets resolved (a store that cannot be read is worth another try), the
 * address is checked, then it is sent and its answer classified.
 */
export async function postToAlertUrl(options: HttpChannelOptions, prepare: () => Promise<{ url: string; body: string; headers?: Record<string, string> }>, signal: AbortSignal): Promise<SendResult> {
  let request: Awaited<ReturnType<typeof prepare>>;
  try {
    request = await prepare();
  } catch (e) {
    if (e instanceof SecretUnavailable) return failed(true, "SECRET", e.message);
    throw e;
  }
  const refused = options.blockPrivateAddresses ? await blockedReason(request.url) : undefined;
  if (refused) return failed(false, "BLOCKED_URL", refused);
  return post(request.url, request.body, { ...(request.headers ? { headers: request.headers } : {}), timeoutMs: options.timeoutMs, signal, now: options.now });
}
