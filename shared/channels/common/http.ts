import type { LookupFunction } from "node:net";
import { Pool, type Dispatcher } from "undici";
import { checkedAddress, type Resolver } from "./address.ts";
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
  /** Connect to this address, already checked, instead of resolving the URL's host (which still names the server: Host, TLS SNI and certificate). */
  readonly pinned?: { readonly address: string; readonly family: 4 | 6 };
}

/**
 * POSTs a body and classifies the outcome; a timeout or a network error is retryable. Redirects are not followed.
 * A body given as bytes is sent as it is (encoded once by whoever also signed it).
 */
export async function post(url: string, body: string | Buffer, options: PostOptions): Promise<SendResult> {
  try {
    // Names are case-insensitive: the last one given of a name is sent, once (a channel's header never doubles one of Vigil's).
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Vigil" };
    if (options.headers) for (const name in options.headers) headers[name.toLowerCase()] = options.headers[name]!;
    const { status, retryAfter } = await exchange(url, body, headers, options.signal, options.timeoutMs, options.pinned);
    return classifyStatus(status, retryAfter, options.now());
  } catch (e) {
    if (e instanceof NoAnswer) return failed(true, "TIMEOUT", `no answer within ${options.timeoutMs} ms`);
    if (options.signal.aborted) return failed(true, "TIMEOUT", "the invocation ran out of time");
    return failed(true, "NETWORK", e instanceof Error ? e.message : String(e));
  }
}

/** The request took longer than its timeout. */
class NoAnswer extends Error {
  override readonly name = "NoAnswer";
}

/** What one answer's body may hold before its connection is dropped rather than kept. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Pools kept; the least recently used is dropped past this (more than the sends in flight at once). */
const MAX_POOLS = 256;
/** Connections one pool opens at most: as many as the most sends of one channel kind in flight (runtime/senders.ts). */
const CONNECTIONS_PER_POOL = 64;
const pools = new Map<string, Pool>();

/**
 * Connections are kept open and reused, per origin and per address connected to: a pool's
 * connections all reach the one address checked for it (with `pinned`), so no pool hands a
 * connection over to another address, and a receiver is not made to accept a connection per
 * message. The pools are undici's (Node's own HTTP/1.1 client, under its fetch): a request
 * costs a fraction of node:http's, and alerting sends thousands a second.
 */
function poolFor(target: Target, pinned: PostOptions["pinned"]): Pool {
  const key = `${target.origin}@${pinned?.address ?? ""}`;
  let pool = pools.get(key);
  if (pool) pools.delete(key); // moved to the back: the most recently used
  else {
    const lookup: LookupFunction | undefined = pinned && ((_host, opts, done) => (opts.all ? done(null, [pinned]) : done(null, pinned.address, pinned.family)));
    pool = new Pool(target.origin, { connections: CONNECTIONS_PER_POOL, keepAliveTimeout: 30_000, connect: lookup ? { lookup } : {} });
    if (pools.size >= MAX_POOLS) {
      // The least recently used pool is dropped: its idle connections closed, those still answering left to finish (and time out).
      const [oldest, dropped] = pools.entries().next().value as [string, Pool];
      pools.delete(oldest);
      void dropped.close().catch(() => {});
    }
  }
  pools.set(key, pool);
  return pool;
}

/** A URL as a request takes it, parsed once: every message to the same URL reuses it. */
interface Target {
  readonly origin: string;
  /** Path and query. */
  readonly path: string;
  /** Basic credentials the URL carries (`https://user:pass@host/…`), sent unless the channel's headers hold their own. */
  readonly authorization?: string;
}

/** URLs parsed; emptied when full (a parse is cheap, but not per message). */
const targets = new Map<string, Target | string>();
const MAX_TARGETS = 1024;

/** The URL's origin and path, or why it cannot be sent to. */
function targetOf(url: string): Target | string {
  let target = targets.get(url);
  if (target === undefined) {
    const parsed = new URL(url);
    target =
      parsed.protocol === "https:" || parsed.protocol === "http:"
        ? {
            origin: parsed.origin,
            path: `${parsed.pathname}${parsed.search}`,
            ...(parsed.username || parsed.password ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString("base64")}` } : {}),
          }
        : `${parsed.protocol} is not http: or https:`;
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(url, target);
  }
  return target;
}

/**
 * One request on a pooled connection (poolFor); the answer is classified on its head, and
 * its body read in the background, bounded, so the connection can be reused. The request,
 * answer included, is cut short after `timeoutMs` or when `signal` aborts.
 */
async function exchange(url: string, body: string | Buffer, headers: Record<string, string>, signal: AbortSignal, timeoutMs: number, pinned?: PostOptions["pinned"]): Promise<{ status: number; retryAfter: string | null }> {
  const target = targetOf(url);
  if (typeof target === "string") throw new Error(target);
  if (signal.aborted) throw new Error("aborted before it was sent");
  if (target.authorization && headers["authorization"] === undefined) headers["authorization"] = target.authorization;
  const cut = new AbortController();
  // One timer per request, and one abort listener per signal (cheaper than a listener per request, at thousands a second).
  const timer = setTimeout(() => cut.abort(new NoAnswer()), timeoutMs);
  const untrack = track(signal, cut);
  const done = () => {
    clearTimeout(timer);
    untrack();
  };
  let answer: Dispatcher.ResponseData;
  try {
    answer = await poolFor(target, pinned).request({ origin: target.origin, path: target.path, method: "POST", headers, body, signal: cut.signal, headersTimeout: 0, bodyTimeout: 0 });
  } catch (e) {
    done();
    throw cut.signal.reason instanceof NoAnswer ? cut.signal.reason : e;
  }
  const retryAfter = answer.headers["retry-after"];
  let read = 0;
  answer.body.on("data", (chunk: Buffer) => {
    if ((read += chunk.length) > MAX_ANSWER_BYTES) answer.body.destroy();
  });
  answer.body.on("close", done);
  answer.body.on("error", () => {}); // the answer was classified already; a broken body only loses the connection
  return { status: answer.statusCode, retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null };
}

/** The requests in flight under each signal: its one listener ends them all when it aborts. */
const inFlight = new WeakMap<AbortSignal, Set<AbortController>>();

/** Ends the request `cut` aborts when `signal` aborts; the answer forgets it. */
function track(signal: AbortSignal, cut: AbortController): () => void {
  let requests = inFlight.get(signal);
  if (!requests) {
    const made = new Set<AbortController>();
    signal.addEventListener(
      "abort",
      () => {
        for (const r of made) r.abort(new Error("aborted"));
        made.clear();
      },
      { once: true },
    );
    inFlight.set(signal, (requests = made));
  }
  requests.add(cut);
  return () => void requests.delete(cut);
}

export interface HttpChannelOptions {
  readonly secrets: SecretResolver;
  readonly timeoutMs: number;
  /** AWS mode: refuse URLs that resolve to anything but public addresses, and connect to the address checked. */
  readonly blockPrivateAddresses: boolean;
  /** How names are resolved for that check (the system's resolver unless given). */
  readonly resolve?: Resolver;
  readonly now: () => number;
}

/**
 * A POST to a URL an alert names (Slack, webhooks): the request is prepared with the
 * alert's secrets resolved (a store that cannot be read is worth another try), the
 * address is checked, then it is sent and its answer classified.
 */
export async function postToAlertUrl(options: HttpChannelOptions, prepare: () => Promise<{ url: string; body: string | Buffer; headers?: Record<string, string> }>, signal: AbortSignal): Promise<SendResult> {
  let request: Awaited<ReturnType<typeof prepare>>;
  try {
    request = await prepare();
  } catch (e) {
    if (e instanceof SecretUnavailable) return failed(true, "SECRET", e.message);
    throw e;
  }
  const checked = options.blockPrivateAddresses ? await checkedAddress(request.url, options.resolve) : undefined;
  if (checked && !checked.ok) return failed(false, "BLOCKED_URL", checked.reason);
  const postOptions: { -readonly [K in keyof PostOptions]: PostOptions[K] } = { timeoutMs: options.timeoutMs, signal, now: options.now };
  if (request.headers) postOptions.headers = request.headers;
  if (checked?.ok) postOptions.pinned = { address: checked.address, family: checked.family };
  return post(request.url, request.body, postOptions);
}
