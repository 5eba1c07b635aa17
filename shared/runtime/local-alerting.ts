import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DeliverDeps } from "../alerts/deliver.ts";
import { OutboxSender } from "../channels/outbox.ts";
import { literalSecrets } from "../channels/common/secrets.ts";
import { LocalDeadLetters } from "../store/local-dead-letters.ts";
import { LocalEventPublisher } from "../store/local-events.ts";
import { DEFAULT_ALERT_SETTINGS, type AlertSettings } from "./alert-settings.ts";
import { allOf, deliverDepsOf, InlineAlerting, senders, type AlertReport } from "./alerting.ts";
import { localRuntime, type LocalRuntime } from "./local.ts";

/** The local mode's key for signing links: made once, kept in the data directory, shared by alerting and `vigil serve`. */
export function localLinkSecret(dataDir: string): string {
  const file = join(dataDir, "state", "link-secret");
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString("hex"), { flag: "wx", mode: 0o600 });
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
  }
  return readFileSync(file, "utf8").trim();
}

/** The local mode with its alerting: what the CLI runs, and the alert and deliver functions locally. */
export interface LocalAlertingRuntime extends LocalRuntime {
  /** The delivery step, as `vigil replay` needs it. */
  readonly delivery: DeliverDeps;
  readonly deadLetters: LocalDeadLetters;
  /** Routes an anomaly group event to its alerts and sends them, in-process. */
  readonly alerting: InlineAlerting;
}

export interface LocalAlertingOptions {
  readonly settings?: AlertSettings;
  /** Told of every anomaly group event's alerts and deliveries (the demo prints them). */
  readonly onAlert?: (report: AlertReport) => void;
  /** The real clock, when `now` is a simulation's (the demo): links in messages expire from real time. */
  readonly linkClock?: () => number;
}

/**
 * The local runtime whose anomaly group events are routed and delivered as soon as they are
 * announced, besides being appended to the events file. Under `dataDir` also: `outbox/`
 * what SNS and Lambda alerts would send, `dead-letters.jsonl` the deliveries that failed.
 * (The detect function's bundle leaves this out: it carries email and HTTP senders.)
 */
export function localAlertingRuntime(dataDir: string, now: () => number, options: LocalAlertingOptions = {}): LocalAlertingRuntime {
  const given = options.settings ?? DEFAULT_ALERT_SETTINGS;
  const base = localRuntime(dataDir, now);
  const settings = { ...given, linkSecret: given.linkSecret ?? localLinkSecret(base.dataDir) };
  const dir = base.dataDir;
  const records = base.records;
  const deadLetters = new LocalDeadLetters(join(dir, "dead-letters.jsonl"));
  const delivery = deliverDepsOf({
    records,
    catalog: base.catalog,
    senders: senders({ settings, secrets: literalSecrets, blockPrivateAddresses: false, aws: new OutboxSender(join(dir, "outbox")), now }),
    deadLetters,
    settings,
    now,
  });
  const alerting = new InlineAlerting({ records, catalog: base.catalog, settings, deliver: delivery, now, ...(options.linkClock ? { linkClock: options.linkClock } : {}), ...(options.onAlert ? { onReport: options.onAlert } : {}) });
  const events = allOf(new LocalEventPublisher(join(dir, "events", "anomaly-groups.jsonl")), alerting);
  return { ...base, events, delivery, deadLetters, alerting };
}
