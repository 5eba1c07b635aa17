import { describe, expect, it } from "vitest";
import { failed, type SendResult } from "../../../shared/alerts/channel.ts";
import { DeliveryGate, type ChannelLimits, type GateClock } from "../../../shared/alerts/gate.ts";
import type { Channel } from "../../../shared/model/alert.ts";
import { CHANNEL_LIMITS } from "../../../shared/runtime/senders.ts";

/**
 * A clock that only moves when every task is waiting on it: sleeps are queued, and `run`
 * lets the tasks go as far as they can, then jumps to the earliest wake-up, until all are
 * done. Times are virtual; nothing here depends on how fast the machine is.
 */
function virtualClock() {
  let now = 0;
  const sleepers: { at: number; wake: () => void }[] = [];
  const clock: GateClock = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        const sleeper = { at: now + ms, wake: resolve };
        sleepers.push(sleeper);
        signal.addEventListener("abort", () => resolve(), { once: true });
      }),
  };
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  async function run<T>(tasks: Promise<T>[]): Promise<T[]> {
    let done = false;
    const all = Promise.all(tasks).finally(() => (done = true));
    for (;;) {
      await settle();
      if (done) return all;
      sleepers.sort((a, b) => a.at - b.at);
      const next = sleepers.shift();
      if (!next) throw new Error("every task waits, and nothing will wake it");
      now = Math.max(now, next.at);
      next.wake();
    }
  }
  return { clock, run, now: () => now };
}

const slack = (url: string): Channel => ({ kind: "slack", webhookUrl: url });
const webhook: Channel = { kind: "webhook", url: "https://example.com/hook" };
const never = new AbortController().signal;

/** One delivery through the gate: its turn, then `sends` attempts, each answered by `answer`. */
async function send(gate: DeliveryGate, channel: Channel, log: { at: number; to: string }[], now: () => number, answers: ReturnType<typeof failed>[] = []) {
  const turn = await gate.enter(channel, never);
  if (!turn) return "aborted";
  try {
    for (let attempt = 0; ; attempt++) {
      await turn.pace(never);
      log.push({ at: now(), to: channel.kind === "slack" ? channel.webhookUrl : channel.kind });
      const answer = answers[attempt];
      if (!answer) {
        turn.after({ ok: true });
        return "sent";
      }
      turn.after(answer);
    }
  } finally {
    turn.release();
  }
}

describe("the delivery gate", () => {
  it("keeps a channel kind's sends in flight within its limit, in order of arrival", async () => {
    const { clock } = virtualClock();
    const limits: ChannelLimits = { ...CHANNEL_LIMITS, webhook: { concurrency: 3 } };
    const gate = new DeliveryGate(limits, clock);
    let inFlight = 0;
    let most = 0;
    const order: number[] = [];
    const release: (() => void)[] = [];
    const one = async (i: number) => {
      const turn = (await gate.enter(webhook, never))!;
      inFlight++;
      most = Math.max(most, inFlight);
      order.push(i);
      await new Promise<void>((r) => release.push(r));
      inFlight--;
      turn.release();
    };
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => one(i)));
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    while (release.length || inFlight) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    await all;
    expect(most).toBe(3);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("sends to one Slack webhook three at once, then one a second, while another webhook goes its own pace", async () => {
    const { clock, run, now } = virtualClock();
    const gate = new DeliveryGate(CHANNEL_LIMITS, clock);
    const log: { at: number; to: string }[] = [];
    await run([...Array.from({ length: 6 }, () => send(gate, slack("https://hooks.slack.test/a"), log, now)), send(gate, slack("https://hooks.slack.test/b"), log, now)]);
    expect(log.filter((l) => l.to.endsWith("/a")).map((l) => l.at)).toEqual([0, 0, 0, 1000, 2000, 3000]);
    expect(log.filter((l) => l.to.endsWith("/b")).map((l) => l.at)).toEqual([0]);
  });

  it("holds every message to a Slack webhook for as long as a 429's Retry-After asks, then resumes one a second", async () => {
    const { clock, run, now } = virtualClock();
    const gate = new DeliveryGate(CHANNEL_LIMITS, clock);
    const log: { at: number; to: string }[] = [];
    const throttled = failed(true, "HTTP_STATUS", "HTTP 429", 5_000);
    // The first is refused with Retry-After: 5 and tries again itself when told; the other two wait behind it.
    const first = send(gate, slack("https://hooks.slack.test/a"), log, now, [throttled]);
    await run([first, send(gate, slack("https://hooks.slack.test/a"), log, now), send(gate, slack("https://hooks.slack.test/a"), log, now)]);
    expect(log.map((l) => l.at)).toEqual([0, 5000, 6000, 7000]);
  });

  it("forgets the Slack webhooks nobody sends to once their pace has filled again, and keeps one a 429 still pauses", async () => {
    // A clock moved by hand; a sleep asked for is noted, and ends the wait (its signal aborts).
    let t = 0;
    const asked: number[] = [];
    const stop = new AbortController();
    const gate = new DeliveryGate(CHANNEL_LIMITS, {
      now: () => t,
      sleep: async (ms) => {
        asked.push(ms);
        stop.abort();
      },
    });
    const once = async (url: string, answer: SendResult = { ok: true }) => {
      const turn = (await gate.enter(slack(url), never))!;
      expect(await turn.pace(never)).toBe(true);
      turn.after(answer);
      turn.release();
    };
    await once("https://hooks.slack.test/paused", failed(true, "HTTP_STATUS", "HTTP 429", 24 * 3_600_000));
    // A tenant's alerts naming 5,000 webhooks over the day, one a second.
    for (let i = 0; i < 5_000; i++) {
      t += 1_000;
      await once(`https://hooks.slack.test/${i}`);
    }
    expect(gate.destinationsKept).toBeLessThanOrEqual(1_025);
    // The paused one is kept: its next message still waits out the Retry-After.
    const turn = (await gate.enter(slack("https://hooks.slack.test/paused"), never))!;
    expect(await turn.pace(stop.signal)).toBe(false);
    expect(asked).toEqual([24 * 3_600_000 - 5_000_000]);
    turn.release();
  });

  it("gives up a wait for a turn when the invocation's time runs out", async () => {
    const { clock } = virtualClock();
    const gate = new DeliveryGate({ ...CHANNEL_LIMITS, email: { concurrency: 1 } }, clock);
    const email: Channel = { kind: "email", to: ["a@example.com"] };
    const held = (await gate.enter(email, never))!;
    const deadline = new AbortController();
    const waiting = gate.enter(email, deadline.signal);
    deadline.abort();
    expect(await waiting).toBeUndefined();
    held.release();
    // The slot given up is not lost: the next delivery gets it at once.
    expect(await gate.enter(email, never)).toMatchObject({ waited: false });
  });

  it("hands a freed slot to the waiting tenant holding the fewest, so one tenant's backlog of slow sends does not hold another's", async () => {
    const { clock } = virtualClock();
    const gate = new DeliveryGate({ ...CHANNEL_LIMITS, webhook: { concurrency: 2 } }, clock);
    const order: string[] = [];
    const turns: { name: string; release: () => void }[] = [];
    const one = async (tenant: string, name: string) => {
      const turn = (await gate.enter(webhook, never, tenant))!;
      order.push(name);
      turns.push({ name, release: () => turn.release() });
    };
    const settle = () => new Promise((r) => setImmediate(r));
    // Tenant a takes both slots and queues five more; then b and c queue one each, then b another.
    const all = [one("a", "a0"), one("a", "a1"), ...[2, 3, 4, 5, 6].map((i) => one("a", `a${i}`))];
    await settle();
    all.push(one("b", "b0"), one("c", "c0"), one("b", "b1"));
    await settle();
    expect(order).toEqual(["a0", "a1"]);
    const releaseNext = async () => {
      turns.shift()!.release();
      await settle();
    };
    // a0 ends: b, holding none, gets it before a's own queue. a1 ends: a and c hold none, and a began to wait first.
    await releaseNext();
    expect(order).toEqual(["a0", "a1", "b0"]);
    await releaseNext();
    expect(order).toEqual(["a0", "a1", "b0", "a2"]);
    // Then c and b, each holding none when their turn comes, before a's backlog (first come, first served gave a2…a6 before b0).
    while (turns.length) await releaseNext();
    await Promise.all(all);
    expect(order).toEqual(["a0", "a1", "b0", "a2", "c0", "b1", "a3", "a4", "a5", "a6"]);
    // A lone tenant still fills every slot.
    const alone = await Promise.all([gate.enter(webhook, never, "a"), gate.enter(webhook, never, "a")]);
    expect(alone.map((t) => t?.waited)).toEqual([false, false]);
  });
});
