import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/**
 * A real SMTP server (smtp-server) that parses what it receives (mailparser). `reject`
 * queues SMTP answers for the next messages, such as 451 (try later) or 550 (refused);
 * `hang` has the next message read whole and never answered (a server stuck after DATA).
 * It offers no STARTTLS, and takes any login (AUTH) in the clear, keeping the user names.
 * `refuseRecipient` has RCPT TO refuse an address with a chosen answer (for the next
 * `times` messages); `deliveredTo` lists, per message taken, the addresses it was taken for
 * (its envelope's, not its To header's).
 */
export class SmtpReceiver {
  readonly mails: ParsedMail[] = [];
  readonly logins: string[] = [];
  readonly deliveredTo: string[][] = [];
  private readonly refusals = new Map<string, { code: number; message: string; times: number }>();
  private readonly script: ({ code: number; message: string } | "hang")[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly url: string,
  ) {}

  static async start(): Promise<SmtpReceiver> {
    let self: SmtpReceiver | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, callback) {
        self!.logins.push(auth.username ?? "");
        callback(null, { user: auth.username });
      },
      onRcptTo(address, _session, callback) {
        const refusal = self!.refusals.get(address.address.toLowerCase());
        if (!refusal || refusal.times <= 0) return callback();
        refusal.times--;
        callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
      },
      onData(stream, session, callback) {
        const refusal = self!.script.shift();
        if (refusal === "hang") return void stream.resume();
        if (refusal) {
          stream.resume();
          stream.on("end", () => callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code })));
          return;
        }
        simpleParser(stream)
          .then((mail) => {
            self!.mails.push(mail);
            self!.deliveredTo.push(session.envelope.rcptTo.map((r) => r.address));
            callback();
          })
          .catch(callback);
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.server.address();
    if (typeof address !== "object" || !address) throw new Error("no address");
    self = new SmtpReceiver(server, `smtp://127.0.0.1:${address.port}`);
    return self;
  }

  reject(code: number, message: string, times = 1): this {
    for (let i = 0; i < times; i++) this.script.push({ code, message });
    return this;
  }

  /** RCPT TO refuses `address` with `code` and `message` for the next `times` messages to it (every one, unless told). */
  refuseRecipient(address: string, code: number, message: string, times = Infinity): this {
    this.refusals.set(address.toLowerCase(), { code, message, times });
    return this;
  }

  /** RCPT TO takes `address` again (every address, unless told). */
  acceptRecipient(address?: string): this {
    if (address === undefined) this.refusals.clear();
    else this.refusals.delete(address.toLowerCase());
    return this;
  }

  /** How many messages were taken for `address`. */
  receivedBy(address: string): number {
    return this.deliveredTo.filter((to) => to.some((a) => a.toLowerCase() === address.toLowerCase())).length;
  }

  hang(): this {
    this.script.push("hang");
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
