import { join, resolve } from "node:path";
import { Catalog } from "../catalog/catalog.ts";
import type { DetectDeps } from "../detect/detect-interval.ts";
import { LOCAL_ARN_SCOPE, type ArnScope } from "../model/ids.ts";
import type { BlobStore } from "../store/blobs.ts";
import { LocalBlobStore } from "../store/local-blobs.ts";
import { LocalRecordStore } from "../store/local-records.ts";
import type { RecordStore } from "../store/records.ts";
import type { EventPublisher } from "../store/events.ts";
import { LocalEventPublisher } from "../store/local-events.ts";
import type { IngestDeps, PulledSource } from "../sources/ingest.ts";
import { RoutingBlobStore } from "../store/routing-blobs.ts";
import type { DeliverDeps } from "../alerts/deliver.ts";
import { literalSecrets } from "../channels/secrets.ts";
import { OutboxSender } from "../channels/outbox.ts";
import { LocalDeadLetters } from "../store/local-dead-letters.ts";
import { allOf, DEFAULT_ALERT_SETTINGS, deliverDepsOf, InlineAlerting, senders, type AlertReport, type AlertSettings } from "./alerting.ts";

/** What the services need, over whichever adapters the mode picks. */
export interface Runtime extends DetectDeps, IngestDeps {
  readonly catalog: Catalog;
}

export function runtimeOf(parts: { records: RecordStore; blobs: BlobStore; resultsRoot: string; scope?: ArnScope; cloudwatch?: PulledSource; events?: EventPublisher; now: () => number }): Runtime {
  const { records, blobs, resultsRoot, now } = parts;
  return {
    records,
    blobs,
    resultsRoot,
    ...(parts.cloudwatch ? { cloudwatch: parts.cloudwatch } : {}),
    ...(parts.events ? { events: parts.events } : {}),
    catalog: new Catalog({ records, scope: parts.scope ?? LOCAL_ARN_SCOPE, now }),
  };
}

/** The local mode: records, results and model snapshots under one data directory. */
export interface LocalRuntime extends Runtime {
  readonly dataDir: string;
  /** What `vigil replay` needs: the delivery step and its dead letters. */
  readonly delivery: DeliverDeps;
  readonly deadLetters: LocalDeadLetters;
  /** Routes an anomaly group event to its alerts and sends them, in-process. */
  readonly alerting: InlineAlerting;
}

export interface LocalOptions {
  readonly settings?: AlertSettings;
  /** Told of every anomaly group event's alerts and deliveries (the demo prints them). */
  readonly onAlert?: (report: AlertReport) => void;
}

/**
 * Under `dataDir`: `state/` records, `results/` results and models, `events/` the anomaly
 * group events, `outbox/` what SNS and Lambda alerts would send, `dead-letters.jsonl` the
 * deliveries that failed. Alerts are routed and delivered in-process.
 */
export function localRuntime(dataDir: string, now: () => number, options: LocalOptions = {}): LocalRuntime {
  const dir = resolve(dataDir);
  const settings = options.settings ?? DEFAULT_ALERT_SETTINGS;
  const records = new LocalRecordStore(join(dir, "state"));
  const base = runtimeOf({ records, blobs: new RoutingBlobStore({ local: new LocalBlobStore() }), resultsRoot: join(dir, "results"), now });
  const deadLetters = new LocalDeadLetters(join(dir, "dead-letters.jsonl"));
  const delivery = deliverDepsOf({
    records,
    catalog: base.catalog,
    senders: senders({ settings, secrets: literalSecrets, blockPrivateAddresses: false, aws: new OutboxSender(join(dir, "outbox")), now }),
    deadLetters,
    settings,
    now,
  });
  const alerting = new InlineAlerting({ records, catalog: base.catalog, settings, deliver: delivery, now, ...(options.onAlert ? { onReport: options.onAlert } : {}) });
  const events = allOf(new LocalEventPublisher(join(dir, "events", "anomaly-groups.jsonl")), alerting);
  return { ...base, events, dataDir: dir, delivery, deadLetters, alerting };
}
