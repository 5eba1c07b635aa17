import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The receiver's own clock when the request ended (epoch ms), as a receiver checks a signature's timestamp against it. */
  readonly receivedAt: number;
}

/** How the receiver answers the next request: a status (with headers), or no answer at all. */
export type Answer = { readonly status: number; readonly headers?: Record<string, string> } | "hang";

/**
 * A real HTTP server standing in for Slack or a webhook receiver: it records every request
 * and answers from a script (the next answers queued, then 200), so a test can make it fail
 * the first N, throttle with Retry-After, or hang.
 */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly script: Answer[] = [];
  private readonly hanging = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HttpReceiver> {
    let self: HttpReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        self!.requests.push({ path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), receivedAt: Date.now() });
        const answer = self!.script.shift() ?? { status: 200 };
        if (answer === "hang") {
          const end = () => res.destroy();
          self!.hanging.add(end);
          return;
        }
        res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
        res.end(answer.status < 300 ? "ok" : "no");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("no address");
    self = new HttpReceiver(server, `http://127.0.0.1:${address.port}`);
    return self;
  }

  /** Queues the next answers. */
  answer(...answers: Answer[]): this {
    this.script.push(...answers);
    return this;
  }

  /** Forgets the queued answers: from now on every request is answered 200. */
  reset(): this {
    this.script.length = 0;
    return this;
  }

  async stop(): Promise<void> {
    for (const end of this.hanging) end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
