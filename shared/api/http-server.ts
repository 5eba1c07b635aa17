import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * An HTTP server that bounds what a client can make it hold or wait for before anything
 * is trusted: the body is counted while it is read and refused (413) before the limit is
 * passed, nothing past it is buffered; headers are bounded in bytes and in number (431);
 * slow senders are cut off (408); connections are capped. The handler sees plain data,
 * and whatever it throws answers 500 with the request id, which is logged: no request,
 * signed or not, ends the process.
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
  /** An idle kept-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** How often the timeouts above are checked. */
  readonly timeoutCheckMs: number;
  readonly maxConnections: number;
}

/**
 * The body limit is the deployed API's: the api Lambda cannot be sent more than 6 MB (the
 * synchronous invocation payload), so `vigil serve` takes what the deployment takes. The
 * largest legitimate requests are PutMetricRows: 10,000 rows of a shop's columns are
 * 1.4 MiB, 10,000 rows of ten 63-character columns 9.7 MiB (such a client sends fewer
 * rows per request, as it must on AWS); CreateMetricSet is a few kB. Headers are bounded
 * as AWS's HTTP API bounds them (10,240 bytes with the request line); an SDK request
 * sends about 1 kB in a dozen headers. 6 MiB × 128 connections bounds the memory bodies
 * can take.
 */
export const DEFAULT_LIMITS: HttpLimits = {
  maxBodyBytes: 6 * 1024 * 1024,
  maxHeaderBytes: 10 * 1024,
  maxHeaders: 100,
  headersTimeoutMs: 10_000,
  // 6 MiB at 1 Mbit/s takes 50 s.
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  timeoutCheckMs: 1_000,
  maxConnections: 128,
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
}

export interface PlainResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type Handler = (request: PlainRequest) => Promise<PlainResponse>;

export interface BoundedServerOptions {
  readonly limits?: Partial<HttpLimits>;
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

const REASONS: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error" };

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

export function createBoundedServer(handler: Handler, options: BoundedServerOptions = {}): Server {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const onError = options.onError ?? (() => {});
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

  const tooLarge = (requestId: string) => closing(bodyTooLarge(limits.maxBodyBytes, requestId));
  const declaredTooLarge = (req: IncomingMessage) => Number(req.headers["content-length"] ?? 0) > limits.maxBodyBytes;

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
    const send = (r: PlainResponse) => {
      if (res.headersSent || res.destroyed) return;
      if (r.headers["connection"] === "close") lingerAfter(res);
      // A declared length sends head and body in one write, not chunked.
      res.writeHead(r.status, { ...r.headers, "content-length": String(Buffer.byteLength(r.body)), "x-amzn-requestid": requestId });
      res.end(r.body);
    };
    if (req.rawHeaders.length / 2 > limits.maxHeaders) return send(closing(refusal(431, "ValidationException", `The request has more than ${limits.maxHeaders} headers`, requestId)));
    if (declaredTooLarge(req)) return send(tooLarge(requestId));

    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limits.maxBodyBytes) return void chunks.push(chunk);
      // Refused before this chunk is kept; the connection closes behind the answer.
      chunks = [];
      req.off("data", onData);
      req.pause();
      send(tooLarge(requestId));
    };
    req.on("data", onData);
    req.on("end", () => {
      if (size > limits.maxBodyBytes) return;
      const [path = "/", query = ""] = (req.url ?? "/").split("?", 2) as [string, string?];
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
      const request: PlainRequest = { method: req.method ?? "GET", path, query, headers, body: Buffer.concat(chunks).toString("utf8"), requestId };
      chunks = [];
      void answer(request, send);
    });
  };

  server.on("request", serveOne);
  // A client that waits for 100 Continue is refused before it sends a body too large.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (declaredTooLarge(req)) {
      res.on("error", () => {});
      const r = tooLarge(randomUUID());
      lingerAfter(res);
      res.writeHead(r.status, r.headers).end(r.body);
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
    const r = closing(refusal(status, status === 408 ? "RequestTimeoutException" : "ValidationException", message, randomUUID()));
    const head = Object.entries({ ...r.headers, "content-length": String(Buffer.byteLength(r.body)) }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\n${head}\r\n${r.body}`);
  });
  return server;
}
