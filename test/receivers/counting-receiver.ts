import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP receiver that counts the requests it holds at once. It holds each request
 * until `hold` are in flight (and a moment more), or until all `expected` have arrived, then
 * answers every one it holds: a sender that keeps to a limit of `hold` makes it reach
 * exactly `hold`, whatever the machine's speed; one that does not overshoots it.
 */
export class CountingReceiver {
  inFlight = 0;
  most = 0;
  readonly received: string[] = [];
  private held: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly hold: number,
    private readonly expected: number,
  ) {}

  static async start(hold: number, expected: number): Promise<CountingReceiver> {
    let self: CountingReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => self!.arrived(String(req.headers["vigil-delivery-id"] ?? ""), () => res.end("ok")));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    self = new CountingReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hold, expected);
    return self;
  }

  private arrived(id: string, answer: () => void): void {
    this.received.push(id);
    this.inFlight++;
    this.most = Math.max(this.most, this.inFlight);
    this.held.push(() => {
      this.inFlight--;
      answer();
    });
    if (this.received.length >= this.expected) this.releaseAll();
    // At the limit, it waits a little before answering, so a sender that keeps no limit is seen sending more.
    else if (this.inFlight === this.hold) setTimeout(() => this.releaseAll(), 25);
  }

  private releaseAll(): void {
    for (const release of this.held.splice(0)) release();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
