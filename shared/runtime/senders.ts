import type { Transporter } from "nodemailer";
import type { Sender, Senders } from "../alerts/channel.ts";
import type { ChannelLimits, DeliveryGate } from "../alerts/gate.ts";
import { SLACK_WEBHOOK_PACE } from "../channels/slack/limits.ts";
import { ownAccountOnly } from "../channels/common/own-account.ts";
import type { AlertSettings, Clock } from "../app/index.ts";
import type { SecretResolver } from "../channels/common/secrets.ts";
import type { HttpChannelOptions } from "../channels/common/http.ts";
import type { ActionIdentity, Channel } from "../model/alert.ts";
import { madeOnFirstUse } from "../model/first-use.ts";

type AwsChannel = Extract<Channel, { kind: "sns" | "lambda" }>;

/** A sender made on its first message: a function that never emails never loads the mailer. */
function lazy<C extends Channel>(make: () => Promise<Sender<C>>): Sender<C> {
  const made = madeOnFirstUse(make);
  return { send: async (message, channel, signal) => (await made()).send(message, channel, signal) };
}

/**
 * The senders of both modes: Slack, webhooks and email are the same everywhere; SNS and
 * Lambda are the mode's own (AWS clients, or the local outbox), held to the alert's account.
 */
export function senders(parts: { settings: AlertSettings; secrets: SecretResolver; blockPrivateAddresses: HttpChannelOptions["blockPrivateAddresses"]; aws: Sender<AwsChannel>; wallClock: Clock; actionsAs?: ActionIdentity }): Senders {
  const { settings, secrets } = parts;
  // The receiver's time, never a simulation's: a signature's timestamp is checked against its clock, and a Retry-After date is on it.
  const http = (timeoutMs: number) => ({ secrets, timeoutMs, blockPrivateAddresses: parts.blockPrivateAddresses, now: parts.wallClock });
  const mailer = madeOnFirstUse(() => import("nodemailer"));
  // The server's URL is resolved at each message (the resolver keeps it five minutes), and a transport made again when it changed: a password rotated in its secret is used once read.
  let made: { readonly url: string; readonly transport: Transporter } | undefined;
  const transport = async (): Promise<Transporter> => {
    const timeout = settings.timeoutsMs.email;
    const [url, { createTransport }] = await Promise.all([secrets.resolve(settings.smtpUrl!), mailer()]);
    // The waits are the transport's options, beside its URL: createTransport's second argument is the messages' defaults, where nodemailer never reads them.
    if (made?.url !== url) {
      // The transport of the URL before (a pool's connections, with `pool=true`) is closed, not left to time out.
      made?.transport.close();
      made = { url, transport: createTransport({ url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout, requireTLS: loginNeedsTls(url) }) };
    }
    return made.transport;
  };
  const smtp = () => (settings.smtpUrl ? transport() : Promise.reject(Object.assign(new Error("no SMTP server is configured (VIGIL_SMTP_URL)"), { responseCode: 550 })));
  return {
    slack: lazy(async () => new (await import("../channels/slack/sender.ts")).SlackSender(http(settings.timeoutsMs.slack))),
    webhook: lazy(async () => new (await import("../channels/webhook/sender.ts")).WebhookSender(http(settings.timeoutsMs.webhook))),
    email: lazy(async () => new (await import("../channels/email/sender.ts")).EmailSender({ transport: smtp, from: settings.emailFrom })),
    // Both modes: the role is the tenant's own, and so is the target where Vigil sends as itself (model/alert.ts).
    sns: ownAccountOnly(parts.aws, parts.actionsAs ?? "vigil"),
    lambda: ownAccountOnly(parts.aws, parts.actionsAs ?? "vigil"),
  };
}

/**
 * Whether an SMTP URL's login must go over TLS: it names a user or password (or cannot be
 * read to tell), and says nothing of TLS itself (`requireTLS` or `ignoreTLS`: its own choice,
 * a test server or a relay on the same host that takes logins in the clear; nodemailer would
 * let the code's `requireTLS` win over the URL's `ignoreTLS`). smtps:// is TLS from the start;
 * for smtp:// STARTTLS is then required: nodemailer otherwise takes it only where the server
 * offers it, and logs in in the clear where it does not, or where someone on the way struck
 * the offer out.
 */
function loginNeedsTls(url: string): boolean {
  const parsed = URL.parse(url);
  if (parsed === null) return true;
  if (parsed.username === "" && parsed.password === "") return false;
  return !parsed.searchParams.has("requireTLS") && !parsed.searchParams.has("ignoreTLS");
}

/**
 * Sends in flight at once, per channel kind, in one process (a Lambda invocation's batch,
 * or `vigil serve`): enough to keep a receiver on a fast network busy without opening
 * hundreds of sockets; SMTP servers take few connections from one client; Slack's pace is
 * its own (channels/slack/limits.ts).
 */
export const CHANNEL_LIMITS: ChannelLimits = {
  webhook: { concurrency: 64 },
  slack: { concurrency: 16, destination: SLACK_WEBHOOK_PACE },
  email: { concurrency: 4 },
  sns: { concurrency: 32 },
  lambda: { concurrency: 32 },
};

/** The gate every delivery of a process queues at, on the real clock (a simulation's clock does not pace Slack); made at the first delivery, so a function that never delivers never loads it. */
export function deliveryGate(limits: ChannelLimits = CHANNEL_LIMITS): Pick<DeliveryGate, "enter"> {
  const made = madeOnFirstUse(async () => new (await import("../alerts/gate.ts")).DeliveryGate(limits, { now: Date.now, sleep: realSleep }));
  return { enter: async (channel, signal, tenant) => (await made()).enter(channel, signal, tenant) };
}

/** A sleep that an abort cuts short. */
export const realSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    // Aborted already: its abort event has fired, and would not end the sleep.
    if (signal.aborted) return resolve();
    // No wait: a turn for what else is due (I/O first), without a timer's millisecond.
    if (ms <= 0) return void setImmediate(resolve);
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
