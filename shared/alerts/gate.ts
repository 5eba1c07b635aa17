import type { Channel, ChannelKind } from "../model/alert.ts";
import type { SendResult } from "./channel.ts";

/**
 * How many sends run at once, per channel kind and per destination, and how fast one
 * destination may be sent to. Deliveries run concurrently; the gate is where they queue.
 * A destination with a pace (Slack's incoming webhooks: about one message a second, short
 * bursts allowed) is sent to by one delivery at a time, which keeps its turn through its
 * retries: a 429's Retry-After then holds every message to that destination, not just the
 * one refused.
 */
export interface ChannelLimit {
  /** Sends of this kind in flight at once, in this process. */
  readonly concurrency: number;
  /** A destination's own limit: what identifies it, and a token bucket (`burst` messages, one more every `intervalMs`). */
  readonly destination?: { readonly key: (channel: Channel) => string; readonly burst: number; readonly intervalMs: number };
}

export type ChannelLimits = Readonly<Record<ChannelKind, ChannelLimit>>;

export interface GateClock {
  readonly now: () => number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A delivery's turn on its channel: `pace` before each attempt, `after` each answer, `release` once done. */
export interface Turn {
  /** Whether it had to wait for its turn (so what was read before may have changed). */
  readonly waited: boolean;
  /** Waits until the destination may be sent to; false when `signal` aborted first. */
  pace(signal: AbortSignal): Promise<boolean>;
  /** Told each answer: a Retry-After pauses the whole destination. */
  after(result: SendResult): void;
  release(): void;
}

/** Slots: `take` resolves once one is free (at once, or after waiting), or to "aborted" when the signal aborts first. */
type Taken = "free" | "waited" | "aborted";

/**
 * Slots shared by tenants. A free slot is taken at once, whoever asks; when all are taken,
 * the next one freed goes to the waiting tenant that holds the fewest (the longest waiting
 * of them on a tie), in order of arrival within a tenant. So one tenant's backlog of slow
 * sends (a receiver that hangs, retries held in their turn) holds another's delivery only
 * until one of its own sends ends, never behind the whole backlog; a lone tenant still has
 * every slot.
 */
class Slots {
  private used = 0;
  /** Slots each tenant holds (those holding none are not kept). */
  private readonly held = new Map<string, number>();
  /** Each waiting tenant's wake-ups, in order of arrival; tenants in the order they began to wait. */
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly size: number) {}

  take(signal: AbortSignal, tenant: string): Promise<Taken> {
    if (signal.aborted) return Promise.resolve("aborted");
    if (this.used < this.size) {
      this.used++;
      this.hold(tenant, 1);
      return Promise.resolve("free");
    }
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener("abort", abort);
        resolve("waited"); // the slot was handed over by give()
      };
      const abort = () => {
        const queue = this.waiting.get(tenant);
        const at = queue?.indexOf(wake) ?? -1;
        if (at >= 0) queue!.splice(at, 1);
        if (queue?.length === 0) this.waiting.delete(tenant);
        resolve("aborted");
      };
      const queue = this.waiting.get(tenant);
      if (queue) queue.push(wake);
      else this.waiting.set(tenant, [wake]);
      signal.addEventListener("abort", abort, { once: true });
    });
  }

  give(tenant: string): void {
    this.hold(tenant, -1);
    const next = this.nextTenant();
    if (next === undefined) {
      this.used--;
      return;
    }
    const queue = this.waiting.get(next)!;
    const wake = queue.shift()!;
    // Served, it goes behind the others waiting: tenants holding as many take turns.
    this.waiting.delete(next);
    if (queue.length) this.waiting.set(next, queue);
    this.hold(next, 1);
    wake();
  }

  /** The waiting tenant holding the fewest slots; Map order breaks ties (who began to wait, or was served, longest ago). */
  private nextTenant(): string | undefined {
    let best: string | undefined;
    let fewest = Infinity;
    for (const tenant of this.waiting.keys()) {
      const n = this.held.get(tenant) ?? 0;
      if (n < fewest) [best, fewest] = [tenant, n];
      if (n === 0) break;
    }
    return best;
  }

  /** No slot taken and nobody waiting. */
  get idle(): boolean {
    return this.used === 0 && this.waiting.size === 0;
  }

  private hold(tenant: string, by: 1 | -1): void {
    const n = (this.held.get(tenant) ?? 0) + by;
    if (n > 0) this.held.set(tenant, n);
    else this.held.delete(tenant);
  }
}

/** A destination's pace. */
type Pace = NonNullable<ChannelLimit["destination"]>;

/** One destination's token bucket and its single slot. */
interface Destination {
  readonly slot: Slots;
  /** Its pace: the bucket's size and refill interval. */
  readonly limit: Pace;
  tokens: number;
  /** From when `tokens` grows again (epoch ms): when last counted, or the end of a pause. */
  at: number;
  /** Nothing is sent before this (a Retry-After). */
  pausedUntil: number;
}

/**
 * Destinations kept before the idle ones are forgotten: a destination nobody sends to, not
 * paused and with its bucket full again is as a new one would be, and tenants may name any
 * number of Slack webhooks over a process's life.
 */
const DESTINATIONS_KEPT = 1_024;

export class DeliveryGate {
  private readonly kinds = new Map<ChannelKind, Slots>();
  private readonly destinations = new Map<string, Destination>();

  constructor(
    private readonly limits: ChannelLimits,
    private readonly clock: GateClock,
  ) {}

  /**
   * Waits for a turn on `channel` (its destination's slot first, then its kind's); undefined
   * when `signal` aborted first. `tenant` (the alert's account) is who the kind's slots are
   * shared fairly between.
   */
  async enter(channel: Channel, signal: AbortSignal, tenant = ""): Promise<Turn | undefined> {
    const limit = this.limits[channel.kind];
    const dest = limit.destination ? this.destination(`${channel.kind}:${limit.destination.key(channel)}`, limit.destination) : undefined;
    const first = dest ? await dest.slot.take(signal, tenant) : "free";
    if (first === "aborted") return undefined;
    const kind = this.kind(channel.kind, limit.concurrency);
    const second = await kind.take(signal, tenant);
    if (second === "aborted") {
      dest?.slot.give(tenant);
      return undefined;
    }
    let released = false;
    return {
      waited: first === "waited" || second === "waited",
      pace: (s) => (dest ? this.pace(dest, s) : Promise.resolve(!s.aborted)),
      after: (result) => {
        if (dest && !result.ok && result.retryAfterMs !== undefined) {
          // Paused, then one message, then the pace again: no burst right after a 429.
          dest.pausedUntil = Math.max(dest.pausedUntil, this.clock.now() + result.retryAfterMs);
          dest.tokens = 1;
          dest.at = dest.pausedUntil;
        }
      },
      release: () => {
        if (released) return;
        released = true;
        kind.give(tenant);
        dest?.slot.give(tenant);
      },
    };
  }

  private kind(kind: ChannelKind, size: number): Slots {
    let slots = this.kinds.get(kind);
    if (!slots) this.kinds.set(kind, (slots = new Slots(size)));
    return slots;
  }

  /** Destinations the gate keeps (paced ones, as Slack's webhooks). */
  get destinationsKept(): number {
    return this.destinations.size;
  }

  private destination(key: string, limit: Pace): Destination {
    let dest = this.destinations.get(key);
    if (!dest) {
      if (this.destinations.size >= DESTINATIONS_KEPT) this.forgetIdle();
      this.destinations.set(key, (dest = { slot: new Slots(1), limit, tokens: limit.burst, at: this.clock.now(), pausedUntil: 0 }));
    }
    return dest;
  }

  /** Forgets the destinations that are as new ones would be: none sending or waiting, none paused, their buckets full again. */
  private forgetIdle(): void {
    const now = this.clock.now();
    for (const [key, d] of this.destinations) {
      if (d.slot.idle && d.pausedUntil <= now && d.tokens + Math.max(0, now - d.at) / d.limit.intervalMs >= d.limit.burst) this.destinations.delete(key);
    }
  }

  private async pace(dest: Destination, signal: AbortSignal): Promise<boolean> {
    const { limit } = dest;
    for (;;) {
      if (signal.aborted) return false;
      const now = this.clock.now();
      dest.tokens = Math.min(limit.burst, dest.tokens + Math.max(0, now - dest.at) / limit.intervalMs);
      dest.at = Math.max(dest.at, now);
      const wait = Math.max(dest.pausedUntil - now, dest.tokens >= 1 ? 0 : Math.ceil((1 - dest.tokens) * limit.intervalMs));
      if (wait <= 0) {
        dest.tokens -= 1;
        return true;
      }
      await this.clock.sleep(wait, signal);
    }
  }
}

/** No limits: every send goes at once (tests of other things; tools that send one message). */
export const unlimited: ChannelLimits = {
  sns: { concurrency: Infinity },
  lambda: { concurrency: Infinity },
  slack: { concurrency: Infinity },
  webhook: { concurrency: Infinity },
  email: { concurrency: Infinity },
};
