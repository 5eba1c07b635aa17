import { describe, expect, it } from "vitest";
import { simulatedClock, systemClock } from "../../../../shared/runtime/service/clock.ts";

describe("service clocks", () => {
  it("a simulated clock runs `rate` times faster than the real one it is given, and sleeps in its own time", async () => {
    let real = 1_000;
    const clock = simulatedClock(Date.UTC(2021, 2, 1), 3_600, () => real);
    expect(clock.now()).toBe(Date.UTC(2021, 2, 1));
    real += 1_000; // one real second: one simulated hour
    expect(clock.now()).toBe(Date.UTC(2021, 2, 1, 1));
    const fast = simulatedClock(Date.now(), 3_600_000);
    const target = fast.now() + 3_600_000; // an hour of it is a millisecond of real time
    await fast.sleepUntil(target, new AbortController().signal);
    expect(fast.now()).toBeGreaterThanOrEqual(target);
  });

  it("the system clock sleeps until a time, or until aborted", async () => {
    const at = Date.now() + 20;
    await systemClock.sleepUntil(at, new AbortController().signal);
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    const stop = new AbortController();
    const sleeping = systemClock.sleepUntil(Date.now() + 3_600_000, stop.signal);
    stop.abort();
    await sleeping;
    await systemClock.sleepUntil(Date.now() - 1, new AbortController().signal);
  });
});
