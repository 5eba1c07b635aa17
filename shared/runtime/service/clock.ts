import { realSleep } from "../senders.ts";

/**
 * The service loop's clock: what time it is, and a way to wait until a time. Injected, so
 * the real one, a simulation's (the demo's, running an hour a second) and a test's (moved
 * by hand) drive the same loop.
 */
export interface ServiceClock {
  readonly now: () => number;
  /** Resolves at `at` (this clock's epoch ms), or as soon as `signal` aborts. */
  sleepUntil(at: number, signal: AbortSignal): Promise<void>;
}

/** Node's timers take at most 2³¹−1 ms; a longer wait is taken in steps, rechecking the time. */
const MAX_STEP_MS = 2 ** 31 - 1;

async function waitFor(ms: () => number, signal: AbortSignal): Promise<void> {
  for (let left = ms(); left > 0 && !signal.aborted; left = ms()) await realSleep(Math.min(left, MAX_STEP_MS), signal);
}

export const systemClock: ServiceClock = {
  now: Date.now,
  sleepUntil: (at, signal) => waitFor(() => at - Date.now(), signal),
};

/** A clock that starts at `start` and runs `rate` times faster than the real one. */
export function simulatedClock(start: number, rate: number, real: () => number = Date.now): ServiceClock {
  const origin = real();
  const now = () => start + (real() - origin) * rate;
  return { now, sleepUntil: (at, signal) => waitFor(() => (at - now()) / rate, signal) };
}
