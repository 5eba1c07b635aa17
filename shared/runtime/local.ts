import { join, resolve } from "node:path";
import type { Delivery, DeliveryQueue } from "../alerts/delivery.ts";
import type { Quotas } from "../model/quotas.ts";
import { alertLookup, DEFAULT_ACCOUNT_ID, deliverAll, routeEvent, silentObserver, type AlertLookup, type AlertSettings, type Clock, type Observer, type PulledSource, type Services } from "../app/index.ts";
import { literalSecrets } from "../channels/common/secrets.ts";
import { OutboxSender } from "../channels/outbox.ts";
import { LocalBlobStore } from "../store/local-blobs.ts";
import { LocalDeadLetters } from "../store/local-dead-letters.ts";
import { LocalEventPublisher } from "../store/local-events.ts";
import { RoutingBlobStore } from "../store/routing-blobs.ts";
import { SqliteRecordStore } from "../store/sqlite-records.ts";
import { ConfinedFiles } from "./data-roots.ts";
import { localLinkKey } from "./link-key.ts";
import { DEFAULT_ALERT_SETTINGS } from "./settings.ts";
import { DEFAULT_SHARD_CAPACITY } from "../detect/shards.ts";
import { WorkerShardRunner } from "./shard-workers.ts";
import { deliveryGate, realSleep, senders } from "./senders.ts";

export interface LocalOptions {
  readonly clock?: Clock;
  /** The real clock, when `clock` is a simulation's (the demo): links expire, and webhooks are signed, by it. */
  readonly linkClock?: Clock;
  readonly settings?: AlertSettings;
  readonly observer?: Observer;
  readonly cloudwatch?: PulledSource;
  /** Where alerting hands deliveries over; by default each is sent at once, in the same call. */
  readonly deliveryQueue?: DeliveryQueue;
  readonly quotas?: Quotas;
  /** The service loop's doorbell, when one runs. */
  readonly wake?: () => void;
  /**
   * The local folders each account may read metric files from (`vigil serve`'s tenants);
   * none given, the operator alone uses this data directory and reads where pointed.
   */
  readonly dataRootsOf?: (accountId: string) => readonly string[] | undefined;
  /**
   * The accounts whose Slack and webhook URLs may reach private, loopback and link-local
   * addresses: by default the operator's alone (the default account); any other tenant's are
   * held to the public internet, as every alert is in AWS, unless the operator allows it.
   */
  readonly privateTargets?: (accountId: string) => boolean;
  /** Most time series per shard of a model (VIGIL_SHARD_SERIES), and the worker threads shards run on (the machine's cores by default). */
  readonly shardCapacity?: number;
  readonly shardWorkers?: number;
}

/**
 * The local mode: no AWS account. Under `dataDir`: `state/records.db` the records (one
 * SQLite database, which any number of processes may share), `results/` results and
 * models, `events/anomaly-groups.jsonl` every anomaly group event, `outbox/` what SNS and
 * Lambda alerts would send, `dead-letters/` the deliveries that kept failing (a file per account). An anomaly group event is routed, and its deliveries sent, as soon as
 * detection announces it: the queues of the AWS mode are calls here.
 */
export function localServices(dataDir: string, options: LocalOptions = {}): Services {
  const dir = resolve(dataDir);
  const clock = options.clock ?? Date.now;
  const given = options.settings ?? DEFAULT_ALERT_SETTINGS;
  // Made on first use (a services object that never signs a link writes no key), and read again once rotated.
  const linkKey = localLinkKey(dir);
  const alertSettings: AlertSettings = {
    ...given,
    get linkSecret() {
      return given.linkSecret ?? linkKey();
    },
  };
  const local = new LocalBlobStore();
  const blobs = new RoutingBlobStore({ local });
  const file = new LocalEventPublisher(join(dir, "events", "anomaly-groups.jsonl"));
  const signal = new AbortController().signal;
  const observer = options.observer ?? silentObserver;
  const privateTargets = options.privateTargets ?? ((account: string) => account === DEFAULT_ACCOUNT_ID);
  // Each routed event's deliveries are a batch of their own: those of one turn of the event loop share their alerts' reads.
  let alertsOfTurn: AlertLookup | undefined;
  const alertsThisTurn = () => {
    if (!alertsOfTurn) {
      alertsOfTurn = alertLookup(services);
      setImmediate(() => (alertsOfTurn = undefined));
    }
    return alertsOfTurn;
  };
  const services: Services = {
    records: SqliteRecordStore.open(join(dir, "state", "records.db"), {
      now: clock,
      // Skipped by every read; the operator is told which, to repair or remove it.
      onDamaged: (d) => observer.failed("reading the local records", new Error(`${d.table}/${d.id} is unreadable: ${d.reason}`), { table: d.table, id: d.id }),
    }),
    blobs,
    dataFiles: (grant) => (grant.dataRoots ? new ConfinedFiles(local, grant.dataRoots, dir) : { get: (uri) => blobs.get(uri), read: (uri) => blobs.read(uri), list: (prefix) => blobs.list(prefix), check: async () => {} }),
    dataRootsOf: options.dataRootsOf ?? (() => undefined),
    resultsRoot: join(dir, "results"),
    events: {
      async publish(event) {
        await file.publish(event);
        await routeEvent(services, event);
      },
    },
    deliveryQueue: options.deliveryQueue ?? {
      // Sent at once, each within its channel's limits; a crash of one fails the enqueue once all are done.
      async enqueue(deliveries: readonly Delivery[]) {
        const crashed = (await deliverAll(services, deliveries, signal, alertsThisTurn())).find((r) => r.status === "rejected");
        if (crashed) throw crashed.reason;
      },
    },
    deadLetters: new LocalDeadLetters(join(dir, "dead-letters"), {
      // The single file every account once shared: its lines are moved into the accounts' files at first use.
      legacyFile: join(dir, "dead-letters.jsonl"),
      // Passed over by every read; the operator is told where, to look at it (a compaction keeps it aside, in `<file>.damaged`).
      onDamaged: (d) => observer.failed("reading the dead letters", new Error(`${d.file}: ${d.reason}`), { file: d.file }),
    }),
    senders: senders({ settings: alertSettings, secrets: literalSecrets, blockPrivateAddresses: (account) => !privateTargets(account), aws: new OutboxSender(join(dir, "outbox")), wallClock: options.linkClock ?? clock }),
    deliveryGate: deliveryGate(),
    sources: { cloudwatch: options.cloudwatch },
    shards: new WorkerShardRunner({ capacity: options.shardCapacity ?? DEFAULT_SHARD_CAPACITY, blobs, ...(options.shardWorkers !== undefined ? { workers: options.shardWorkers } : {}) }),
    alertSettings,
    region: { partition: "aws", region: "us-east-1" },
    clock,
    linkClock: options.linkClock ?? clock,
    timer: { sleep: realSleep, random: Math.random },
    keepsLeases: true,
    observer,
    quotas: options.quotas,
    wake: options.wake,
  };
  return services;
}

/** Local files alone, for commands that read metric files and keep nothing (`vigil backtest`). */
export const localFiles = () => new RoutingBlobStore({ local: new LocalBlobStore() });
