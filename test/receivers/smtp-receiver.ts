import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/**
 * A real SMTP server (smtp-server) that parses what it receives (mailparser). `reject`
 * queues SMTP answers for the next messages, such as 451 (try later) or 550 (refused);
 * `hang` has the next message read whole and never answered (a server stuck after DATA).
 * It offers no STARTTLS, and takes any login (AUTH) in the clear, keeping the user names.
 */
export class SmtpReceiver {
  readonly mails: ParsedMail[] = [];
  readonly logins: string[] = [];
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
      onData(stream, _session, callback) {
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

  hang(): this {
    this.script.push("hang");
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
