import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIP, isIPv4, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/**
 * An HTTP server that bounds what a client can make it hold or wait for before anything
 * is trusted: the body is counted while it is read and refused (413) before the limit is
 * passed, nothing past it is buffered; headers are bounded in bytes and in number (431);
 * slow senders are cut off (408); connections are capped, in all and per client (429); a
 * Host that names another server is refused (421) before the body is read. The handler
 * sees plain data, and whatever it throws answers 500 with the request id, which is
 * logged: no request, signed or not, ends the process.
 */
export interface HttpLimits {
  /** Largest body read, in bytes. */
  readonly maxBodyBytes: number;
  /** Request line and headers together, in bytes (Node's maxHeaderSize). */
  readonly maxHeaderBytes: number;
  readonly maxHeaders: number;
  /** From the connection's first byte to the end of the headers. */
  readonly headersTimeoutMs: number;
  /** From the first byte to the end of the body. */
  readonly requestTimeoutMs: number;
  /** From the end of the headers to the end of the body, for a request whose headers carry no credentials (BoundedServerOptions.vouched); past it, any body still arriving is a slow one. */
  readonly anonymousBodyTimeoutMs: number;
  /** Slow bodies (with credentials, as a header can claim them without any) taken in at once, of all clients: past it, one more is refused (408). */
  readonly maxSlowBodies: number;
  /** An idle kept-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** How often the timeouts above are checked. */
  readonly timeoutCheckMs: number;
  readonly maxConnections: number;
  /** Connections one client (an IPv4 address, an IPv6 /64) may hold at once, so that no one client can take every slot. */
  readonly maxConnectionsPerClient: number;
}

/**
 * The body limit is the deployed API's: the api Lambda cannot be sent more than 6 MB (the
 * synchronous invocation payload), so `vigil serve` takes what the deployment takes. The
 * largest legitimate requests are PutMetricRows: 10,000 rows of a shop's columns are
 * 1.4 MiB, 10,000 rows of ten 63-character columns 9.7 MiB (such a client sends fewer
 * rows per request, as it must on AWS); CreateMetricSet is a few kB. Headers are bounded
 * as AWS's HTTP API bounds them (10,240 bytes with the request line); an SDK request
 * sends about 1 kB in a dozen headers. 6 MiB × 128 connections bounds the memory bodies
 * can take. One client holds at most a quarter of the connections, so three others still
 * find room (the SDK's pool opens up to 50; past 32 it is answered 429 and retries). A
 * body sent without credentials is small (console sign-in, an alert link's form, a few kB):
 * 10 s is ample for it, and such a request holds a slot for 20 s at most, not 60. Credentials
 * are only claimed by a header until the body is in, so at most 32 bodies (with them) may
 * take longer than that at once: a quarter of the slots, whoever sends them.
 */
export const DEFAULT_LIMITS: HttpLimits = {
  maxBodyBytes: 6 * 1024 * 1024,
  maxHeaderBytes: 10 * 1024,
  maxHeaders: 100,
  headersTimeoutMs: 10_000,
  // 6 MiB at 1 Mbit/s takes 50 s.
  requestTimeoutMs: 60_000,
  anonymousBodyTimeoutMs: 10_000,
  maxSlowBodies: 32,
  keepAliveTimeoutMs: 5_000,
  timeoutCheckMs: 1_000,
  maxConnections: 128,
  maxConnectionsPerClient: 32,
};

export interface PlainRequest {
  readonly method: string;
  /** Percent-encoded, as received. */
  readonly path: string;
  readonly query: string;
  /** Names in lower case; repeated headers joined with ",". */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  readonly requestId: string;
  /** Who sent it: clientOf its connection's address (an IPv4 address, an IPv6 /64). */
  readonly client?: string;
}

export interface PlainResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type Handler = (request: PlainRequest) => Promise<PlainResponse>;

export type PlainHeaders = PlainRequest["headers"];

export interface BoundedServerOptions {
  readonly limits?: Partial<HttpLimits>;
  /** Whether the Host header names this server (hostsAnswered); without it, any Host is answered. */
  readonly answersHost?: (host: string | undefined) => boolean;
  /** Whether the headers carry credentials that look like a caller's: only such a request may take requestTimeoutMs to send its body. */
  readonly vouched?: (headers: PlainHeaders) => boolean;
  /** An error the handler threw: answered 500 with `requestId`, and reported here. */
  readonly onError?: (error: unknown, requestId: string) => void;
}

/** A refusal in the AWS rest-json shape, which the SDK clients read (`__type`, `x-amzn-errortype`). */
function refusal(status: number, type: string, message: string, requestId: string): PlainResponse {
  return {
    status,
    headers: { "content-type": "application/json", "x-amzn-errortype": type, "x-amzn-requestid": requestId },
    body: JSON.stringify({ __type: type, Message: message }),
  };
}

/** The answer to a body over `maxBodyBytes`, here and at the api Lambda. */
export const bodyTooLarge = (maxBodyBytes: number, requestId: string) => refusal(413, "ValidationException", `The request body is larger than ${maxBodyBytes} bytes: send less per request (for PutMetricRows, fewer rows)`, requestId);

/** A refusal after which the connection is closed: what the client still sends is not read. */
const closing = (r: PlainResponse): PlainResponse => ({ ...r, headers: { ...r.headers, connection: "close" } });

/** The answer to a request for another server: what a page whose domain was rebound to this address sends. */
const misdirected = (host: string | undefined, requestId: string) => closing(refusal(421, "ValidationException", `This server does not answer for the host ${JSON.stringify(host ?? "")}: call it by its address, or add the name to allowedHosts (VIGIL_ALLOWED_HOSTS)`, requestId));

const REASONS: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large", 429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error" };

/**
 * Closing at once while the client still sends would reset the connection, and a reset
 * can drop the answer before the client reads it: after a refusal the server stops
 * reading, says it is done, and closes a moment later.
 */
const LINGER_MS = 1_000;

function lingerAfter(res: ServerResponse): void {
  const socket = res.socket as (Duplex & { destroySoon?: () => void }) | null;
  if (!socket) return;
  socket.destroySoon = () => {
    socket.pause();
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}

/**
 * Node 22 refuses headers past maxHeadersCount as a header overflow, as it does headers past
 * maxHeaderSize; the request's packet tells which limit it passed.
 */
function headerOverflow(error: NodeJS.ErrnoException, limits: { maxHeaderBytes: number; maxHeaders: number }): string {
  const packet = (error as { rawPacket?: Buffer }).rawPacket;
  const headerLines = packet ? packet.toString("latin1").split("\r\n\r\n")[0]!.split("\r\n").length - 1 : 0;
  return packet && packet.length <= limits.maxHeaderBytes && headerLines > limits.maxHeaders ? `The request has more than ${limits.maxHeaders} headers` : `The request line and headers are larger than ${limits.maxHeaderBytes} bytes`;
}

/** The host a Host header names, as URLs compare it (lower case, IPv4 dotted, IPv6 in brackets, without the root's trailing dot), without its port; undefined for what names none. */
function hostnameOf(value: string): string | undefined {
  if (!/^[^\s/?#@\\]+$/.test(value) || !URL.canParse(`http://${value}`)) return undefined;
  // `vigil.lan.` is `vigil.lan`, fully qualified.
  return new URL(`http://${value}`).hostname.replace(/(?<=[^.])\.$/, "");
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];
const unbracketed = (address: string) => address.replace(/^\[(.*)\]$/, "$1");
const isWildcard = (address: string) => ["", "0.0.0.0", "::"].includes(unbracketed(address));

/** Whether an address to listen on is this machine's alone. */
export function isLoopback(address: string): boolean {
  const a = unbracketed(address.toLowerCase()).replace(/^::ffff:(?=\d)/, "");
  return a === "localhost" || a === "::1" || (isIPv4(a) && a.startsWith("127."));
}

/**
 * Which Host headers a server listening on `bound` answers: its address's (the loopback
 * names too when it is loopback), and the names given (its public URL's host, those the
 * operator allows). A page can have a browser send its own domain's name here by rebinding
 * that name to this address in DNS, never an IP address: one is the origin of the server
 * at that address. So a server listening on every address also answers any IP address,
 * its own however it is reached (a container's, a forwarded one). Ports are not compared:
 * a forwarded port reaches the same server.
 */
export function hostsAnswered(bound: string, named: readonly string[] = []): (host: string | undefined) => boolean {
  const wildcard = isWildcard(bound);
  const own = wildcard ? [] : [isIP(bound) === 6 ? `[${bound}]` : bound];
  const names = new Set([...(wildcard || isLoopback(bound) ? LOOPBACK_NAMES : []), ...own, ...named].map(hostnameOf).filter((n) => n !== undefined));
  return (host) => {
    const name = host === undefined ? undefined : hostnameOf(host);
    return name !== undefined && (names.has(name) || (wildcard && isIP(unbracketed(name)) !== 0));
  };
}

/**
 * The client a connection counts against: its IPv4 address, or its IPv6 /64, the usual
 * allotment of one host, which may take any address in it.
 */
export function clientOf(address: string): string {
  const plain = address.split("%")[0]!;
  if (isIP(plain) !== 6 || /^::ffff:\d/i.test(plain)) return plain;
  const [head = "", tail] = plain.split("::", 2) as [string, string?];
  const groups = (part: string | undefined) => (part ? part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])) : []);
  const written = groups(head);
  const full = tail === undefined ? written : [...written, ...Array<string>(8 - written.length - groups(tail).length).fill("0"), ...groups(tail)];
  return `${full.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}

/** An answer written on the socket itself, for when Node has no response to write it on. */
function rawAnswer(r: PlainResponse): string {
  const head = Object.entries({ ...r.headers, "content-length": String(Buffer.byteLength(r.body)) }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `HTTP/1.1 ${r.status} ${REASONS[r.status]}\r\n${head}\r\n${r.body}`;
}

/**
 * Caps the connections each client holds at once. One past its cap is answered 429, as
 * L4M throttles, and closed as soon as that is written: it is not read, and it does not
 * linger holding a slot. `turnedAway` collects them, so a request one sent meanwhile is not served;
 * `clients` keeps each connection's client, told once, for its requests.
 */
function capPerClient(server: Server, max: number, turnedAway: WeakSet<Duplex>, clients: WeakMap<Duplex, string>): void {
  const held = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const client = clientOf(socket.remoteAddress ?? "");
    clients.set(socket, client);
    const count = held.get(client) ?? 0;
    if (count >= max) {
      turnedAway.add(socket);
      socket.on("error", () => {});
      socket.once("finish", () => socket.destroy());
      return void socket.end(rawAnswer(closing(refusal(429, "TooManyRequestsException", `More than ${max} connections from one client at once: wait for some to finish`, randomUUID()))));
    }
    held.set(client, count + 1);
    socket.once("close", () => {
      const left = held.get(client)! - 1;
      if (left > 0) held.set(client, left);
      else held.delete(client);
    });
  });
}

/** A request's headers, names in lower case, repeated ones joined with ",". */
function plainHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
  return headers;
}

export function createBoundedServer(handler: Handler, options: BoundedServerOptions = {}): Server {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const onError = options.onError ?? (() => {});
  const answersHost = options.answersHost ?? (() => true);
  const vouched = options.vouched ?? (() => true);
  // Asked outside the handler's guard: what it throws must not end the process.
  const vouchedSafely = (headers: PlainHeaders) => {
    try {
      return vouched(headers);
    } catch {
      return false;
    }
  };
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckMs,
  });
  // One more than allowed, so the first header too many is seen and refused here; past that, Node refuses them (headerOverflow).
  server.maxHeadersCount = limits.maxHeaders + 1;
  server.maxConnections = limits.maxConnections;
  const turnedAway = new WeakSet<Duplex>();
  const clients = new WeakMap<Duplex, string>();
  /** Bodies still arriving past anonymousBodyTimeoutMs. */
  let slowBodies = 0;
  capPerClient(server, limits.maxConnectionsPerClient, turnedAway, clients);

  const tooLarge = (requestId: string) => closing(bodyTooLarge(limits.maxBodyBytes, requestId));
  const declaredTooLarge = (req: IncomingMessage) => Number(req.headers["content-length"] ?? 0) > limits.maxBodyBytes;
  // What the headers alone refuse, before any of the body is read or any route runs.
  const refusedOnHeaders = (req: IncomingMessage, requestId: string): PlainResponse | undefined => {
    if (req.rawHeaders.length / 2 > limits.maxHeaders) return closing(refusal(431, "ValidationException", `The request has more than ${limits.maxHeaders} headers`, requestId));
    if (!answersHost(req.headers.host)) return misdirected(req.headers.host, requestId);
    if (declaredTooLarge(req)) return tooLarge(requestId);
    return undefined;
  };

  // Whatever fails here, the handler or writing its answer (a header Node refuses), is the server's 500.
  const answer = async (request: PlainRequest, send: (r: PlainResponse) => void) => {
    try {
      send(await handler(request));
    } catch (e) {
      onError(e, request.requestId);
      send(refusal(500, "InternalServerException", `Internal error; request id ${request.requestId}`, request.requestId));
    }
  };

  const serveOne = (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    // An aborted upload or a vanished client is an error event on these; unheard, it would end the process.
    req.on("error", () => {});
    res.on("error", () => {});
    if (turnedAway.has(req.socket)) return;
    const send = (r: PlainResponse) => {
      if (res.headersSent || res.destroyed) return;
      if (r.headers["connection"] === "close") lingerAfter(res);
      // A declared length sends head and body in one write, not chunked.
      res.writeHead(r.status, { ...r.headers, "content-length": String(Buffer.byteLength(r.body)), "x-amzn-requestid": requestId });
      res.end(r.body);
    };
    const early = refusedOnHeaders(req, requestId);
    if (early) return send(early);

    const headers = plainHeaders(req);
    let chunks: Buffer[] = [];
    let size = 0;
    let deadline: NodeJS.Timeout | undefined;
    let refused = false;
    let slow = false;
    // A slow body's place is given back once it has arrived, been refused, or its client has gone.
    const settled = () => {
      clearTimeout(deadline);
      if (slow) slowBodies--;
      slow = false;
    };
    // Refused before the chunk that would pass a limit is kept; the connection closes behind the answer.
    const refuse = (r: PlainResponse) => {
      refused = true;
      chunks = [];
      settled();
      req.off("data", onData);
      req.pause();
      send(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limits.maxBodyBytes) return void chunks.push(chunk);
      refuse(tooLarge(requestId));
    };
    // A body still arriving after anonymousBodyTimeoutMs is slow. Without credentials it is refused: a stranger cannot hold a
    // slot for requestTimeoutMs. With them (which a header claims, checked only once the body is in), it may go on while fewer
    // than maxSlowBodies do: a forged signature holds no more than those slots, whatever addresses it comes from.
    const vouched = vouchedSafely(headers);
    const tooSlow = (why: string) => refuse(closing(refusal(408, "RequestTimeoutException", `The request body was not received in time${why}`, requestId)));
    deadline = setTimeout(() => {
      if (!vouched) return tooSlow("");
      if (slowBodies >= limits.maxSlowBodies) return tooSlow(`: ${limits.maxSlowBodies} slow uploads are under way already`);
      slow = true;
      slowBodies++;
    }, limits.anonymousBodyTimeoutMs);
    req.on("close", settled);
    req.on("data", onData);
    req.on("end", () => {
      settled();
      if (refused) return;
      const [path = "/", query = ""] = (req.url ?? "/").split("?", 2) as [string, string?];
      const request: PlainRequest = { method: req.method ?? "GET", path, query, headers, body: Buffer.concat(chunks).toString("utf8"), requestId, client: clients.get(req.socket) };
      chunks = [];
      void answer(request, send);
    });
  };

  server.on("request", serveOne);
  // A client that waits for 100 Continue is refused before it sends a body it may not send.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (turnedAway.has(req.socket)) return;
    const early = refusedOnHeaders(req, randomUUID());
    if (early) {
      res.on("error", () => {});
      lingerAfter(res);
      res.writeHead(early.status, early.headers).end(early.body);
      return;
    }
    res.writeContinue();
    serveOne(req, res);
  });
  // What Node refuses before a request exists: headers too large, too slow, not HTTP.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answering = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || answering?.headersSent) return void socket.destroy();
    const [status, message] =
      error.code === "HPE_HEADER_OVERFLOW"
        ? [431, headerOverflow(error, limits)]
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "The request was not received in time"]
          : [400, "The request is not valid HTTP/1.1"];
    socket.end(rawAnswer(closing(refusal(status, status === 408 ? "RequestTimeoutException" : "ValidationException", message, randomUUID()))));
  });
  return server;
}
