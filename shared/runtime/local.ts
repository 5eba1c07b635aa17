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
}

/**
 * Under `dataDir`: `state/` records, `results/` results and models, `events/` the anomaly
 * group events (alerting reads them: local-alerting.ts). `events` replaces the file.
 */
export function localRuntime(dataDir: string, now: () => number, options: { events?: EventPublisher } = {}): LocalRuntime {
  const dir = resolve(dataDir);
  const runtime = runtimeOf({
    records: new LocalRecordStore(join(dir, "state")),
    blobs: new RoutingBlobStore({ local: new LocalBlobStore() }),
    resultsRoot: join(dir, "results"),
    events: options.events ?? new LocalEventPublisher(join(dir, "events", "anomaly-groups.jsonl")),
    now,
  });
  return { ...runtime, dataDir: dir };
}
