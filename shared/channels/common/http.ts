import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { urlToHttpOptions } from "node:url";
import { checkedAddress, type Resolver } from "./address.ts";
import { failed, type SendResult } from "../../alerts/channel.ts";
import { SecretUnavailable, type SecretResolver } from "./secrets.ts";
import { connectionFailure } from "./connection-failure.ts";

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
    const { status, retryAfter } = await exchange(url, body, { "content-type": "application/json", "user-agent": "Vigil", ...options.headers }, options.signal, options.timeoutMs, options.pinned);
    return classifyStatus(status, retryAfter, options.now());
  } catch (e) {
    if (e instanceof NoAnswer) return failed(true, "TIMEOUT", `no answer within ${options.timeoutMs} ms`);
    if (options.signal.aborted) return failed(true, "TIMEOUT", "the invocation ran out of time");
    return failed(true, "NETWORK", connectionFailure(e));
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
const pools = new Map<string, HttpAgent>();

/**
 * Connections are kept open and reused, per origin and per address connected to: a pool's
 * sockets all reach the one address checked for it (with `pinned`), so no pool hands a
 * socket over to another address, and a receiver is not made to accept a connection per
 * message.
 */
function poolFor(target: Target, pinned: PostOptions["pinned"]): HttpAgent {
  const key = `${target.origin}@${pinned?.address ?? ""}`;
  let pool = pools.get(key);
  if (pool) pools.delete(key); // moved to the back: the most recently used
  else {
    const options = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64, timeout: 30_000, scheduling: "lifo" as const };
    pool = target.https ? new HttpsAgent(options) : new HttpAgent(options);
    if (pools.size >= MAX_POOLS) {
      // The least recently used pool is dropped: its idle connections closed, those still answering left to finish (and time out).
      const [oldest, agent] = pools.entries().next().value as [string, HttpAgent];
      pools.delete(oldest);
      for (const idle of Object.values(agent.freeSockets)) for (const socket of idle ?? []) socket.destroy();
    }
  }
  pools.set(key, pool);
  return pool;
}

/** A URL as a request takes it, parsed once: every message to the same URL reuses it. */
interface Target {
  readonly https: boolean;
  readonly origin: string;
  readonly options: Readonly<RequestOptions>;
}

/** URLs parsed; emptied when full (a parse is cheap, but not per message). */
const targets = new Map<string, Target | string>();
const MAX_TARGETS = 1024;

/** The URL's request options, or why it cannot be sent to. */
function targetOf(url: string): Target | string {
  let target = targets.get(url);
  if (target === undefined) {
    const parsed = new URL(url);
    target =
      parsed.protocol === "https:" || parsed.protocol === "http:"
        ? { https: parsed.protocol === "https:", origin: `${parsed.protocol}//${parsed.host}`, options: Object.freeze(urlToHttpOptions(parsed)) }
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
function exchange(url: string, body: string | Buffer, headers: Record<string, string>, signal: AbortSignal, timeoutMs: number, pinned?: PostOptions["pinned"]): Promise<{ status: number; retryAfter: string | null }> {
  let target: Target | string;
  try {
    target = targetOf(url);
  } catch (e) {
    return Promise.reject(e);
  }
  if (typeof target === "string") return Promise.reject(new Error(target));
  if (signal.aborted) return Promise.reject(new Error("aborted before it was sent"));
  const send = target.https ? httpsRequest : httpRequest;
  const lookup: LookupFunction | undefined = pinned && ((_host, opts, done) => (opts.all ? done(null, [pinned]) : done(null, pinned.address, pinned.family)));
  headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.length);
  return new Promise((resolve, reject) => {
    const req = send({ ...target.options, method: "POST", headers, agent: poolFor(target, pinned), ...(lookup ? { lookup } : {}) }, (res) => {
      const retryAfter = res.headers["retry-after"];
      resolve({ status: res.statusCode ?? 0, retryAfter: retryAfter ?? null });
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        if ((read += chunk.length) > MAX_ANSWER_BYTES) res.destroy();
      });
      res.on("end", done);
      res.on("error", () => {}); // the answer was classified already; a broken body only loses the connection
    });
    // One timer per request, and one abort listener per signal (cheaper than a signal or a listener per request, at thousands a second).
    const timer = setTimeout(() => req.destroy(new NoAnswer()), timeoutMs);
    const untrack = track(signal, req);
    function done() {
      clearTimeout(timer);
      untrack();
    }
    req.on("close", done);
    req.on("error", (e) => {
      done();
      reject(e);
    });
    req.end(body);
  });
}

/** The requests in flight under each signal: its one listener ends them all when it aborts. */
const inFlight = new WeakMap<AbortSignal, Set<ClientRequest>>();

/** Ends `req` when `signal` aborts; the answer forgets it. */
function track(signal: AbortSignal, req: ClientRequest): () => void {
  let requests = inFlight.get(signal);
  if (!requests) {
    const made = new Set<ClientRequest>();
    signal.addEventListener(
      "abort",
      () => {
        for (const r of made) r.destroy(new Error("aborted"));
        made.clear();
      },
      { once: true },
    );
    inFlight.set(signal, (requests = made));
  }
  requests.add(req);
  return () => void requests.delete(req);
}

export interface HttpChannelOptions {
  readonly secrets: SecretResolver;
  readonly timeoutMs: number;
  /**
   * Refuse URLs that resolve to anything but public addresses, and connect to the address
   * checked: for every alert (AWS), or for the alerts of the accounts it answers true for
   * (`vigil serve`: every tenant's but the operator's, unless allowed).
   */
  readonly blockPrivateAddresses: boolean | ((account: string) => boolean);
  /** How names are resolved for that check (the system's resolver unless given). */
  readonly resolve?: Resolver;
  readonly now: () => number;
}

/**
 * A POST to a URL an alert of account `owner` names (Slack, webhooks): the request is
 * prepared with the alert's secrets resolved (a store that cannot be read is worth another
 * try), the address is checked, then it is sent and its answer classified.
 */
export async function postToAlertUrl(options: HttpChannelOptions, owner: string, prepare: () => Promise<{ url: string; body: string | Buffer; headers?: Record<string, string> }>, signal: AbortSignal): Promise<SendResult> {
  let request: Awaited<ReturnType<typeof prepare>>;
  try {
    request = await prepare();
  } catch (e) {
    if (e instanceof SecretUnavailable) return failed(true, "SECRET", e.message);
    throw e;
  }
  // A URL read from a secret is checked only now: one that is none is the alert's fault, never retried (and not quoted: it is a secret's value).
  if (!URL.canParse(request.url) || !/^https?:$/.test(new URL(request.url).protocol)) return failed(false, "BLOCKED_URL", "the alert's URL, as its secret holds it, is not an http(s) URL");
  const block = typeof options.blockPrivateAddresses === "function" ? options.blockPrivateAddresses(owner) : options.blockPrivateAddresses;
  const checked = block ? await checkedAddress(request.url, options.resolve) : undefined;
  if (checked && !checked.ok) return failed(false, "BLOCKED_URL", checked.reason);
  return post(request.url, request.body, { ...(request.headers ? { headers: request.headers } : {}), timeoutMs: options.timeoutMs, signal, now: options.now, ...(checked?.ok ? { pinned: { address: checked.address, family: checked.family } } : {}) });
}
