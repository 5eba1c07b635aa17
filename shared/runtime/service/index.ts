import { chmodSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Duration } from "luxon";
import { awaitedMetricSets, DEFAULT_ACCOUNT_ID, type AlertSettings, type PulledSource, type Services } from "../../app/index.ts";
import { AccessDeniedException } from "../../model/errors.ts";
import { arnAccount } from "../../model/ids.ts";
import { madeOnFirstUse } from "../../model/first-use.ts";
import { LocalDeliverySpool } from "../../store/local-spool.ts";
import { localServices } from "../local.ts";
import { DEFAULT_ALERT_SETTINGS } from "../settings.ts";
import { systemClock, type ServiceClock } from "./clock.ts";
import { quotasOf, type ServeConfig } from "./config.ts";
import { lockDataDir } from "./lock.ts";
import { ServiceLoop } from "./loop.ts";
import { serviceObserver, type ServiceObserver } from "./observe.ts";
import { TemplateWatcher } from "./watch.ts";

export { simulatedClock, systemClock, type ServiceClock } from "./clock.ts";
export { loadServeConfig, ServeConfig, type TenantConfig } from "./config.ts";
export { ServiceLoop } from "./loop.ts";
export { serviceObserver, type AnsweredRequest, type ServiceObserver } from "./observe.ts";

export interface OpenServiceOptions {
  readonly clock?: ServiceClock;
  readonly observer?: ServiceObserver;
  /** A CloudWatch source (tests point one at a local server); else one is made from the settings' cloudWatch. */
  readonly cloudwatch?: PulledSource;
  /** Retries of deliveries, over the defaults (the demo shortens them). */
  readonly settings?: Partial<AlertSettings>;
  /** Watch for files landing (default true). */
  readonly watch?: boolean;
  /** The real clock, for the expiry of links, when `clock` is a simulation's. */
  readonly linkClock?: () => number;
  /**
   * The folders each account may read metric files from (the tenants' checked data roots):
   * detection, ingestion and back-tests read a tenant's files with them. Without it, the
   * operator's own data, read where pointed.
   */
  readonly dataRootsOf?: (accountId: string) => readonly string[] | undefined;
  /** The accounts whose Slack and webhook URLs may reach private addresses (local.ts: the operator's alone by default). */
  readonly privateTargets?: (accountId: string) => boolean;
}

/** The one-machine service: the local services, with the loop that runs them and the watcher that wakes it. */
export interface RunningService {
  readonly services: Services;
  readonly loop: ServiceLoop;
  readonly observer: ServiceObserver;
  readonly dataDir: string;
  /** Store and scheduler up: `/ready`. */
  ready(): Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** Drains (see ServiceLoop.stop), then lets the data directory go. */
  stop(graceMs: number): Promise<"drained" | "cut">;
}

/** The alert settings `vigil serve`'s settings give. */
export function serveAlertSettings(config: ServeConfig, url: string | undefined): AlertSettings {
  const d = DEFAULT_ALERT_SETTINGS;
  return {
    ...d,
    publicUrl: config.publicUrl ?? url ?? d.publicUrl,
    ...(config.smtp ? { smtpUrl: config.smtp.url, ...(config.smtp.from ? { emailFrom: config.smtp.from } : {}) } : {}),
    ...(config.linkKey ? { linkSecret: config.linkKey } : {}),
    ...(config.repeatInterval ? { repeatMs: Duration.fromISO(config.repeatInterval).toMillis() } : {}),
  };
}

/** CloudWatch, read with the AWS SDK's usual credentials, its client made on first use. */
function cloudWatchOf(config: ServeConfig): PulledSource | undefined {
  const cw = config.cloudWatch;
  if (!cw) return undefined;
  const source = madeOnFirstUse(() =>
    Promise.all([import("../../sources/cloudwatch.ts"), import("@aws-sdk/client-cloudwatch")]).then(([{ cloudWatchSource }, { CloudWatchClient }]) => cloudWatchSource(new CloudWatchClient({ region: cw.region, ...(cw.endpoint ? { endpoint: cw.endpoint } : {}) }))),
  );
  return { kind: "cloudwatch", readInterval: async (m, start, period) => (await source()).readInterval(m, start, period) };
}

/**
 * CloudWatch is read with the operator's own AWS credentials here (no tenant's role is
 * assumed, as in AWS): it pulls the operator's metric sets alone. Another tenant's would read
 * the operator's account, as a path outside its data roots would read the operator's files.
 */
function operatorsOnly(source: PulledSource): PulledSource {
  const admit = (accountId: string) => {
    if (accountId !== DEFAULT_ACCOUNT_ID) throw new AccessDeniedException("vigil serve reads CloudWatch with the operator's own credentials, for the default tenant's metric sets only: read this metric set's data from files or push it (HttpPushConfig)");
  };
  return {
    kind: source.kind,
    admit,
    readInterval: async (metricSet, start, period) => {
      admit(arnAccount(metricSet.MetricSetArn));
      return source.readInterval(metricSet, start, period);
    },
  };
}

/** The folders of the data directory that Vigil alone writes: the records and link key, results and models, deliveries waiting and parked, sends to AWS, events. */
const OWN_FOLDERS = ["state", "results", "queue", "dead-letters", "outbox", "events"] as const;

/**
 * Vigil's own folders of a data directory, private whatever the directory's mode: one made
 * before (an operator's mkdir, a volume) may be open to the machine's other users, who would
 * then read the tenants' results and the signed links of messages waiting or parked. The
 * directory itself and the rest of it (files/, where others may drop metric files) are left
 * as they are.
 */
function ownFoldersPrivate(dir: string): void {
  for (const name of OWN_FOLDERS) {
    const folder = join(dir, name);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    if ((statSync(folder).mode & 0o077) !== 0) chmodOwn(folder);
  }
}

/** Made private, unless another user owns the folder (a volume mounted there, its group given to Vigil): then it is the owner's to keep. */
function chmodOwn(folder: string): void {
  try {
    chmodSync(folder, 0o700);
  } catch (e) {
    if ((e as { code?: string }).code !== "EPERM") throw e;
  }
}

/**
 * Opens the service over `config.dataDir`: takes the data directory's lock, builds the
 * local services with a delivery spool and the loop's doorbell, and starts the loop (which
 * first releases what a stopped run left held and catches up).
 */
export async function openService(config: ServeConfig, options: OpenServiceOptions & { url?: string } = {}): Promise<RunningService> {
  const dir = resolve(config.dataDir);
  // Made private: beside the records (private themselves) it holds the tenants' results and pushed rows, and messages whose signed links open their groups.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ownFoldersPrivate(dir);
  const unlock = lockDataDir(join(dir, "state", "serve.lock"));
  try {
    const clock = options.clock ?? systemClock;
    const observer = options.observer ?? serviceObserver();
    const spool = new LocalDeliverySpool(join(dir, "queue", "deliveries"));
    let loop: ServiceLoop | undefined;
    const given = options.cloudwatch ?? cloudWatchOf(config);
    const cloudwatch = given && operatorsOnly(given);
    const services = localServices(dir, {
      clock: clock.now,
      linkClock: options.linkClock ?? clock.now,
      settings: { ...serveAlertSettings(config, options.url), ...options.settings },
      observer,
      deliveryQueue: spool,
      quotas: quotasOf(config),
      wake: () => loop?.wake(),
      ...(cloudwatch ? { cloudwatch } : {}),
      ...(options.dataRootsOf ? { dataRootsOf: options.dataRootsOf } : {}),
      ...(options.privateTargets ? { privateTargets: options.privateTargets } : {}),
    });
    const watcher = options.watch === false ? undefined : new TemplateWatcher((file) => loop?.wake([file]));
    const arm = (now: number) =>
      void awaitedMetricSets(services)
        .then((sets) => watcher?.arm(sets, now))
        .catch((e: unknown) => observer.failed("file watch", e));
    loop = new ServiceLoop({ services, clock, spool, onTick: arm });
    observer.queueDepth(() => spool.depth());
    await loop.start();
    const running = loop;
    return {
      services,
      loop: running,
      observer,
      dataDir: dir,
      async ready() {
        const checks: Record<string, string> = {};
        checks["scheduler"] = running.ready ? "up" : running.phase;
        try {
          await services.records.list("detectors", "\u0000none/");
          checks["store"] = "up";
        } catch (e) {
          // Anyone may ask /ready: the store's own words (a file's path, say) go to the log, not to them.
          checks["store"] = "down";
          observer.failed("readiness check of the store", e);
        }
        return { ready: Object.values(checks).every((c) => c === "up"), checks };
      },
      async stop(graceMs) {
        try {
          return await running.stop(graceMs);
        } finally {
          await watcher?.close();
          unlock();
        }
      },
    };
  } catch (e) {
    unlock();
    throw e;
  }
}
