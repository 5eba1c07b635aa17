import { Logger } from "@aws-lambda-powertools/logger";
import type { ServiceLoop } from "../shared/runtime/service/loop.ts";
import { serviceObserver } from "../shared/runtime/service/observe.ts";
import type { ServiceClock } from "../shared/runtime/service/clock.ts";

/** A clock a test moves by hand: sleepers wake when it passes their time, never by themselves. */
export class ManualClock implements ServiceClock {
  private sleepers: { at: number; wake: () => void }[] = [];

  constructor(private time: number) {}

  readonly now = () => this.time;

  sleepUntil(at: number, signal: AbortSignal): Promise<void> {
    if (at <= this.time || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { at, wake: resolve };
      this.sleepers.push(sleeper);
      signal.addEventListener("abort", () => ((this.sleepers = this.sleepers.filter((s) => s !== sleeper)), resolve()), { once: true });
    });
  }

  /** Moves the clock to `time` (never back) and wakes whoever slept until then. */
  set(time: number): void {
    this.time = Math.max(this.time, time);
    const due = this.sleepers.filter((s) => s.at <= this.time);
    this.sleepers = this.sleepers.filter((s) => s.at > this.time);
    for (const s of due) s.wake();
  }
}

/**
 * Resolves once the loop has nothing left to do at the clock's time: it sleeps until later
 * its delivery worker waits with an empty queue, and no back-test runs. Gives up after `rounds` looks.
 */
export async function settled(loop: ServiceLoop, clock: ManualClock, rounds = 20_000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (loop.phase === "sleeping" && loop.sleepingUntil > clock.now() && loop.deliveriesIdle && loop.backTestsIdle) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`the service loop did not settle (phase ${loop.phase})`);
}

/** The service's observer with its log lines kept out of the test output. */
export const quietObserver = () => serviceObserver(new Logger({ serviceName: "vigil", logLevel: "SILENT" }));
