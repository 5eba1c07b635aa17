import { createTransport, type Transporter } from "nodemailer";
import { deliver, type DeliverDeps, type DeliveryOutcome } from "../alerts/deliver.ts";
import type { DeadLetters, Delivery } from "../alerts/delivery.ts";
import { buildAlertPipeline, type AlertVerdict } from "../alerts/route.ts";
import type { AlertSettings } from "./alert-settings.ts";
import type { Catalog } from "../catalog/catalog.ts";
import type { Sender, Senders } from "../alerts/channel.ts";
import { EmailSender } from "../channels/email/sender.ts";
import type { SecretResolver } from "../channels/common/secrets.ts";
import { SlackSender } from "../channels/slack/sender.ts";
import { WebhookSender } from "../channels/webhook/sender.ts";
import type { Channel } from "../model/alert.ts";
import type { AnomalyGroupEvent } from "../model/anomaly-event.ts";
import { ResourceNotFoundException } from "../model/errors.ts";
import type { EventPublisher } from "../store/events.ts";
import type { RecordStore } from "../store/records.ts";

/** The senders of HTTP and email channels, shared by both modes; SNS and Lambda are the mode's own. */
export function senders(parts: { settings: AlertSettings; secrets: SecretResolver; blockPrivateAddresses: boolean; aws: Sender<Extract<Channel, { kind: "sns" | "lambda" }>>; now: () => number }): Senders {
  const { settings, secrets, now } = parts;
  const http = (timeoutMs: number) => ({ secrets, timeoutMs, blockPrivateAddresses: parts.blockPrivateAddresses, now });
  let transport: Promise<Transporter> | undefined;
  const smtp = () => {
    if (!settings.smtpUrl) return Promise.reject(Object.assign(new Error("no SMTP server is configured (VIGIL_SMTP_URL)"), { responseCode: 550 }));
    transport ??= secrets.resolve(settings.smtpUrl).then((url) => createTransport(url, { connectionTimeout: settings.timeoutsMs.email, greetingTimeout: settings.timeoutsMs.email, socketTimeout: settings.timeoutsMs.email } as never));
    return transport;
  };
  return {
    slack: new SlackSender(http(settings.timeoutsMs.slack)),
    webhook: new WebhookSender(http(settings.timeoutsMs.webhook)),
    email: new EmailSender({ transport: smtp, from: settings.emailFrom }),
    sns: parts.aws,
    lambda: parts.aws,
  };
}

export function deliverDepsOf(parts: { records: RecordStore; catalog: Catalog; senders: Senders; deadLetters: DeadLetters; settings: AlertSettings; now: () => number }): DeliverDeps {
  return {
    records: parts.records,
    alert: (arn) =>
      parts.catalog.getAlert(arn).catch((e: unknown) => {
        if (e instanceof ResourceNotFoundException) return undefined;
        throw e;
      }),
    senders: parts.senders,
    deadLetters: parts.deadLetters,
    policy: parts.settings.policy,
    clock: { sleep: realSleep, random: Math.random },
    now: parts.now,
  };
}

export interface AlertReport {
  readonly event: AnomalyGroupEvent;
  readonly verdicts: AlertVerdict[];
  readonly deliveries: { readonly delivery: Delivery; readonly outcome: DeliveryOutcome }[];
}

/**
 * The local mode's alerting: no queue between the steps, each anomaly group event is
 * routed and its deliveries sent in-process, as soon as detection announces it.
 */
export class InlineAlerting implements EventPublisher {
  constructor(
    private readonly parts: { records: RecordStore; catalog: Catalog; settings: AlertSettings; deliver: DeliverDeps; now: () => number; linkClock?: () => number; onReport?: (report: AlertReport) => void },
  ) {}

  async publish(event: AnomalyGroupEvent): Promise<void> {
    this.parts.onReport?.(await this.route(event));
  }

  /** Routes one event and sends its deliveries; says what became of each alert. */
  async route(event: AnomalyGroupEvent): Promise<AlertReport> {
    const deliveries: AlertReport["deliveries"] = [];
    const signal = new AbortController().signal;
    const route = buildAlertPipeline({
      records: this.parts.records,
      alertsOf: (arn) => this.parts.catalog.listAlerts(arn),
      queue: {
        enqueue: async (ds) => {
          for (const delivery of ds) deliveries.push({ delivery, outcome: await deliver(this.parts.deliver, delivery, signal) });
        },
      },
      publicUrl: this.parts.settings.publicUrl,
      linkSecret: this.parts.settings.linkSecret,
      ...(this.parts.linkClock ? { linksMadeAt: this.parts.linkClock() } : {}),
      repeatMs: this.parts.settings.repeatMs,
      now: this.parts.now(),
    });
    return { event, verdicts: await route(event), deliveries };
  }
}

/** Several listeners of one event port, in turn. */
export const allOf = (...publishers: EventPublisher[]): EventPublisher => ({
  async publish(event) {
    for (const p of publishers) await p.publish(event);
  },
});

/** A sleep that an abort cuts short. */
export const realSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
