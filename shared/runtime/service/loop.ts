import { DeliveryInterrupted, deliverOne, detectDue, ingestDue, nextWakeAt, releaseStaleBackTestLeases, releaseStaleDelivery, releaseStaleLeases, runBackTests, type Delivery, type Services } from "../../app/index.ts";
import { boundedDetail } from "../../alerts/channel.ts";
import { spoolAccount, type LocalDeliverySpool } from "../../store/local-spool.ts";
import { realSleep } from "../senders.ts";
import type { ServiceClock } from "./clock.ts";
import { Doorbell } from "./wake.ts";

/**
 * `vigil serve`'s service loop: in one process, what the Lambda functions do on AWS.
 * Detection runs each interval at its end plus the metric set's Offset (and at once when a
 * file lands for a closed interval, or work is asked for); CloudWatch sources are pulled
 * as intervals close; back-tests asked for run; alerting enqueues deliveries on the spool
 * and a worker sends them with the same retries, parking and exactly-once records as the
 * deliver function. Back-tests run beside the ticks, a slice of the engine at a time, so
 * one tenant's back-test of many series holds up no detection. A start first catches up
 * every interval missed while stopped. `stop` drains: nothing new is started, work under way
 * finishes (a back-test stops between two slices, to run again at the next start), or past
 * the grace period is cut and left to be run again.
 */
export interface ServiceLoopOptions {
  readonly services: Services;
  readonly clock: ServiceClock;
  readonly spool: LocalDeliverySpool;
  /** The longest sleep between two looks at the catalog (clock ms), so a detector activated by another process is seen. */
  readonly pollMs?: number;
  /** Deliveries sent at once. */
  readonly deliveryConcurrency?: number;
  /** Called at each tick with the clock's time, to re-arm what watches for files. */
  readonly onTick?: (now: number) => void;
}

/** Deliveries sent at once: past what one channel kind may have in flight, so the gate (shared between tenants) is what limits a channel. */
const DELIVERY_CONCURRENCY = 128;
/** A delivery that fails this many times unexpectedly (not the channel's answer) is parked, as the queue's redrive policy does on AWS. */
const UNHANDLED_LIMIT = 5;
/** Most file arrivals remembered between two ticks; more still wake the loop. */
const MAX_ARRIVALS = 1_000;

export type LoopPhase = "new" | "ticking" | "sleeping" | "stopped";

export class ServiceLoop {
  private readonly services: Services;
  private readonly clock: ServiceClock;
  private readonly spool: LocalDeliverySpool;
  private readonly pollMs: number;
  private readonly concurrency: number;
  /** Aborted on stop: no new work. */
  private readonly draining = new AbortController();
  /** Aborted when the grace period ends: work under way is cut. */
  private readonly cut = new AbortController();
  private readonly tickBell = new Doorbell();
  private readonly deliveryBell = new Doorbell();
  private readonly backTestBell = new Doorbell();
  private _backTestsIdle = false;
  private arrived: string[] = [];
  private unhandled = new Map<string, number>();
  private running: Promise<unknown> | undefined;
  private _phase: LoopPhase = "new";
  private _sleepingUntil = -Infinity;
  private _deliveriesIdle = false;
  private _ticks = 0;

  constructor(private readonly options: ServiceLoopOptions) {
    this.services = options.services;
    this.clock = options.clock;
    this.spool = options.spool;
    this.pollMs = options.pollMs ?? 60_000;
    this.concurrency = options.deliveryConcurrency ?? DELIVERY_CONCURRENCY;
  }

  get phase(): LoopPhase {
    return this._phase;
  }
  /** Clock time the loop sleeps until, while it sleeps. */
  get sleepingUntil(): number {
    return this._sleepingUntil;
  }
  /** The worker waits with nothing queued. */
  get deliveriesIdle(): boolean {
    return this._deliveriesIdle && !this.deliveryBell.pending;
  }
  /** No back-test runs, and none was asked for since the last look. */
  get backTestsIdle(): boolean {
    return this._backTestsIdle && !this.backTestBell.pending;
  }
  get ticks(): number {
    return this._ticks;
  }
  /** Started and not stopping: for `/ready`. */
  get ready(): boolean {
    return this.running !== undefined && !this.draining.signal.aborted;
  }

  /** Releases what a stopped process left held, then runs: the first tick catches up. */
  async start(): Promise<void> {
    const { leases: released, visits } = await releaseStaleLeases(this.services, this.clock.now());
    const backTests = await releaseStaleBackTestLeases(this.services);
    let deliveries = 0;
    for (const d of await this.spool.pending(Number.MAX_SAFE_INTEGER)) if (await releaseStaleDelivery(this.services, d.deliveryId)) deliveries++;
    if (released || visits || deliveries || backTests) this.services.observer.failed("previous run", new Error(`stopped without finishing: released ${released} interval lease(s), ${visits} visit(s), ${deliveries} delivery lease(s) and ${backTests} back-test lease(s)`));
    this.running = Promise.all([this.mainLoop(), this.deliveryLoop(), this.backTestLoop()]);
  }

  /** Work was asked for, or files landed: tick now. */
  wake(files: readonly string[] = []): void {
    if (this.arrived.length < MAX_ARRIVALS) this.arrived.push(...files.slice(0, MAX_ARRIVALS - this.arrived.length));
    this.tickBell.ring();
  }

  /** Drains: answers "drained" when work under way finished within `graceMs` (real ms), "cut" when it had to be cut. */
  async stop(graceMs: number): Promise<"drained" | "cut"> {
    this.draining.abort();
    this.tickBell.ring();
    this.deliveryBell.ring();
    this.backTestBell.ring();
    const running = this.running ?? Promise.resolve();
    const gone = new AbortController();
    const timedOut = await Promise.race([running.then(() => false), realSleep(graceMs, gone.signal).then(() => true)]);
    gone.abort();
    if (timedOut) this.cut.abort();
    this._phase = "stopped";
    return timedOut ? "cut" : "drained";
  }

  private async mainLoop(): Promise<void> {
    while (!this.draining.signal.aborted) {
      this._phase = "ticking";
      await this.tick(this.arrived.splice(0));
      this._ticks++;
      if (this.draining.signal.aborted) break;
      if (this.arrived.length || this.tickBell.pending) {
        await this.tickBell.wait(async () => {});
        continue;
      }
      const now = this.clock.now();
      const next = await nextWakeAt(this.services, now).catch((e: unknown) => void this.services.observer.failed("scheduling", e));
      this._sleepingUntil = Math.min(next ?? Infinity, now + this.pollMs);
      this._phase = "sleeping";
      await this.tickBell.wait((signal) => this.clock.sleepUntil(this._sleepingUntil, anySignal(signal, this.draining.signal)));
      this._sleepingUntil = -Infinity;
    }
    this._phase = "stopped";
  }

  /** One pass: pull sources, detect what is due, and look for back-tests asked for. Each part's failure is reported and left to the next tick. */
  private async tick(arrived: readonly string[]): Promise<void> {
    const { services } = this;
    const now = this.clock.now();
    this.options.onTick?.(now);
    await ingestDue(services, now).catch((e: unknown) => services.observer.failed("ingest", e));
    if (!this.draining.signal.aborted) await detectDue(services, now, { signal: this.draining.signal, arrived }).catch((e: unknown) => services.observer.failed("detection", e));
    this.deliveryBell.ring();
    this.backTestBell.ring();
  }

  /** Back-tests asked for, run beside the ticks (runBackTests gives way between slices); looked for at each tick. */
  private async backTestLoop(): Promise<void> {
    while (!this.draining.signal.aborted) {
      await runBackTests(this.services, { signal: this.draining.signal, then: "wait" }).catch((e: unknown) => this.services.observer.failed("back-test", e));
      this._backTestsIdle = true;
      await this.backTestBell.wait((signal) => realSleep(this.pollMs, anySignal(signal, this.draining.signal)));
      this._backTestsIdle = false;
    }
  }

  /**
   * Sends what the spool holds, `concurrency` at once: a place is filled as soon as it frees
   * (no batch waits for its slowest), and tenants take turns for places (the spool's
   * `pending`), so one tenant's backlog to a receiver that hangs does not hold another's
   * deliveries. Each send that ends rings the loop; the spool is listed again once a poll, however often it rings.
   */
  private async deliveryLoop(): Promise<void> {
    const sending = new Map<Delivery, Promise<void>>();
    const held = (account: string) => {
      let n = 0;
      for (const d of sending.keys()) if (spoolAccount(d) === account) n++;
      return n;
    };
    // When the folder was last listed (real ms): sends ending may ring the loop more often than a poll, and it is listed again all the same.
    let listed = performance.now();
    while (!this.draining.signal.aborted) {
      const room = this.concurrency - sending.size;
      const batch = room > 0 ? await this.spool.pending(room, { except: sending.keys(), held }).catch((e: unknown) => (this.services.observer.failed("delivery queue", e), [] as Delivery[])) : [];
      for (const d of batch) {
        const sent = this.sendOne(d)
          .catch((e: unknown) => this.services.observer.failed("delivery", e, { deliveryId: d.deliveryId }))
          .finally(() => {
            sending.delete(d);
            this.deliveryBell.ring();
          });
        sending.set(d, sent);
      }
      if (!sending.size) this._deliveriesIdle = true;
      await this.deliveryBell.wait((signal) => realSleep(Math.max(0, listed + this.pollMs - performance.now()), anySignal(signal, this.draining.signal)));
      this._deliveriesIdle = false;
      // A poll's end, rung through or not: what else may have come into the folder is listed.
      if (performance.now() - listed >= this.pollMs && !this.draining.signal.aborted) {
        await this.spool.refresh().catch((e: unknown) => this.services.observer.failed("delivery queue", e));
        listed = performance.now();
      }
    }
    await Promise.all(sending.values());
  }

  private async sendOne(delivery: Delivery): Promise<void> {
    if (this.draining.signal.aborted) return;
    try {
      await deliverOne(this.services, delivery, this.cut.signal);
      await this.spool.remove(delivery);
      this.unhandled.delete(delivery.deliveryId);
    } catch (e) {
      // Cut by the end of the grace period: it stays queued for the next start.
      if (e instanceof DeliveryInterrupted) return;
      this.services.observer.failed("delivery", e, { deliveryId: delivery.deliveryId });
      const times = (this.unhandled.get(delivery.deliveryId) ?? 0) + 1;
      this.unhandled.set(delivery.deliveryId, times);
      if (times >= UNHANDLED_LIMIT) {
        try {
          // One deliver parked already (the failure came after) keeps its own reason.
          if (!(await this.services.deadLetters.holds(delivery))) await this.services.deadLetters.park({ delivery, reason: "UNHANDLED", detail: boundedDetail(e instanceof Error ? e.message : String(e)), attempts: times, parkedAt: this.services.clock() });
          await this.spool.remove(delivery);
          this.unhandled.delete(delivery.deliveryId);
        } catch (parking) {
          // Not parked (the store failing too): it waits as long as the last try did before it is tried again, not at once as its end rings the loop.
          this.services.observer.failed("delivery", parking, { deliveryId: delivery.deliveryId });
          await realSleep(1_000 * 2 ** UNHANDLED_LIMIT, this.draining.signal);
        }
      } else await realSleep(1_000 * 2 ** times, this.draining.signal);
    }
  }
}

function anySignal(...signals: AbortSignal[]): AbortSignal {
  return AbortSignal.any(signals);
}
