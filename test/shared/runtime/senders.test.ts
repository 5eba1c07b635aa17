import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertMessage } from "../../../shared/alerts/message.ts";
import type { SecretResolver } from "../../../shared/channels/common/secrets.ts";
import { CHANNEL_LIMITS, deliveryGate, senders } from "../../../shared/runtime/senders.ts";
import { DEFAULT_ALERT_SETTINGS } from "../../../shared/runtime/settings.ts";
import { alertNamed, anomalyGroupEvent } from "../../builders.ts";
import { SmtpReceiver } from "../../receivers/smtp-receiver.ts";

const message = alertMessage(alertNamed("a"), anomalyGroupEvent(), "first", "http://localhost:8087");
const channel = { kind: "email" as const, to: ["oncall@example.com"] };
const unused = { send: () => Promise.reject(new Error("not an email")) };

describe("the senders of a warm function", () => {
  let smtp: SmtpReceiver;
  beforeAll(async () => void (smtp = await SmtpReceiver.start()));
  afterAll(() => smtp.stop());

  it("email: a secret out of reach at the first message fails that delivery only; the retry reaches the SMTP server", async () => {
    let lookups = 0;
    const secrets: SecretResolver = {
      resolve: async (value) => {
        if (++lookups === 1) throw new Error("Secrets Manager: rate exceeded");
        return value === "{{resolve:secretsmanager:smtp}}" ? smtp.url : value;
      },
    };
    const email = senders({ settings: { ...DEFAULT_ALERT_SETTINGS, smtpUrl: "{{resolve:secretsmanager:smtp}}" }, secrets, blockPrivateAddresses: false, aws: unused, wallClock: Date.now }).email;
    const signal = new AbortController().signal;
    expect(await email.send(message, channel, signal)).toMatchObject({ ok: false, retryable: true });
    const before = smtp.mails.length;
    expect(await email.send(message, channel, signal)).toEqual({ ok: true });
    expect(await email.send(message, channel, signal)).toEqual({ ok: true });
    expect(smtp.mails.length - before).toBe(2);
    // Each message asks the resolver (which keeps a secret five minutes): a rotated one is followed.
    expect(lookups).toBe(3);
  });
});

/** A server that takes connections and never says a word: an SMTP server that hangs before its greeting. */
async function silentServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return { server, url: `smtp://127.0.0.1:${address.port}` };
}

describe("the email sender's waits", () => {
  it("gives up on an SMTP server that does not answer after the email timeout of the settings, not nodemailer's own (30 s for a greeting, 10 min idle)", async () => {
    const { server, url } = await silentServer();
    try {
      const settings = { ...DEFAULT_ALERT_SETTINGS, smtpUrl: url, timeoutsMs: { ...DEFAULT_ALERT_SETTINGS.timeoutsMs, email: 300 } };
      const email = senders({ settings, secrets: { resolve: async (value) => value }, blockPrivateAddresses: false, aws: unused, wallClock: Date.now }).email;
      const started = Date.now();
      expect(await email.send(message, channel, new AbortController().signal)).toMatchObject({ ok: false, retryable: true, reason: "TIMEOUT" });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.close();
    }
  });
});

describe("the email sender's server, named by a secret", () => {
  it("follows the secret once it changes (its password rotated, another server), as its resolver reads it again, not the server it named at the first message", async () => {
    const [first, second] = await Promise.all([SmtpReceiver.start(), SmtpReceiver.start()]);
    try {
      let current = first.url;
      const secrets: SecretResolver = { resolve: async (value) => (value === "{{resolve:secretsmanager:vigil/smtp}}" ? current : value) };
      const email = senders({ settings: { ...DEFAULT_ALERT_SETTINGS, smtpUrl: "{{resolve:secretsmanager:vigil/smtp}}" }, secrets, blockPrivateAddresses: false, aws: unused, wallClock: Date.now }).email;
      const signal = new AbortController().signal;
      expect(await email.send(message, channel, signal)).toEqual({ ok: true });
      current = second.url;
      expect(await email.send(message, channel, signal)).toEqual({ ok: true });
      expect(await email.send(message, channel, signal)).toEqual({ ok: true });
      expect([first.mails.length, second.mails.length]).toEqual([1, 2]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});

describe("the email sender's login", () => {
  let smtp: SmtpReceiver;
  beforeAll(async () => void (smtp = await SmtpReceiver.start()));
  afterAll(() => smtp.stop());
  const withLogin = (query = "") => smtp.url.replace("smtp://", "smtp://ana:s3cret-password@") + query;
  const emailVia = (smtpUrl: string) => senders({ settings: { ...DEFAULT_ALERT_SETTINGS, smtpUrl }, secrets: { resolve: async (value) => value }, blockPrivateAddresses: false, aws: unused, wallClock: Date.now }).email;

  it("is never sent in the clear: a smtp:// URL with a user and password needs STARTTLS, and a server (or someone on the way) that offers none is refused before the login", async () => {
    const before = smtp.mails.length;
    expect(await emailVia(withLogin()).send(message, channel, new AbortController().signal)).toMatchObject({ ok: false, reason: "SMTP" });
    expect(smtp.logins).toEqual([]);
    expect(smtp.mails.length).toBe(before);
  });

  it("goes in the clear where the URL says so itself (requireTLS=false or ignoreTLS=true: a test server, a relay on the same host)", async () => {
    expect(await emailVia(withLogin("?requireTLS=false")).send(message, channel, new AbortController().signal)).toEqual({ ok: true });
    expect(await emailVia(withLogin("?ignoreTLS=true")).send(message, channel, new AbortController().signal)).toEqual({ ok: true });
    expect(smtp.logins).toEqual(["ana", "ana"]);
  });

  it("needs TLS of a URL with a user and no password too", async () => {
    const before = smtp.mails.length;
    expect(await emailVia(smtp.url.replace("smtp://", "smtp://ana@")).send(message, channel, new AbortController().signal)).toMatchObject({ ok: false, reason: "SMTP" });
    expect(smtp.mails.length).toBe(before);
  });
});

describe("the delivery gate of a process, made at its first delivery", () => {
  it("is one gate for deliveries that arrive together before it is made: the second waits for the first's slot", async () => {
    const gate = deliveryGate({ ...CHANNEL_LIMITS, email: { concurrency: 1 } });
    const signal = new AbortController().signal;
    const order: string[] = [];
    const first = gate.enter(channel, signal).then((turn) => (order.push("first"), turn));
    const second = gate.enter(channel, signal).then((turn) => (order.push("second"), turn));
    const turn = (await first)!;
    expect(turn.waited).toBe(false);
    turn.release();
    // Had each made a gate of its own, the second would have found a free slot in its own (waited false).
    expect((await second)!.waited).toBe(true);
    expect(order).toEqual(["first", "second"]);
  });
});
