import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Delivery, ParkedDelivery } from "../../../shared/alerts/delivery.ts";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { LocalDeadLetters } from "../../../shared/store/local-dead-letters.ts";
import { alertNamed, anomalyGroupEvent, T0, tempDir } from "../../builders.ts";

const delivery = (revision: number): Delivery => {
  const message = alertMessage(alertNamed("a"), anomalyGroupEvent({ revision }), "first", "x");
  return { deliveryId: message.deliveryId, alertArn: message.alert.arn, message };
};
const parked = (revision: number): ParkedDelivery => ({ delivery: delivery(revision), reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
const ids = (all: readonly ParkedDelivery[]) => all.map((p) => p.delivery.deliveryId);

describe("the local dead-letter file", () => {
  it("keeps parking and replaying after an append cut short (a full disk): the cut line is skipped, no line after it is lost", async () => {
    const file = join(await tempDir(), "dead-letters.jsonl");
    const dead = new LocalDeadLetters(file);
    await dead.park(parked(1));
    // What an append that failed part way leaves: the start of a line, no line break.
    const whole = `${JSON.stringify(parked(2))}\n`;
    await appendFile(file, whole.slice(0, whole.length >> 1));
    await dead.park(parked(3));
    await dead.park(parked(4));

    expect(ids(await dead.list())).toEqual(ids([parked(1), parked(3), parked(4)]));
    const seen: string[] = [];
    expect(await dead.drain(async (p) => (seen.push(p.delivery.deliveryId), true))).toEqual({ retried: 3, remaining: 0 });
    expect(seen.sort()).toEqual(ids([parked(1), parked(3), parked(4)]).sort());
    expect(await dead.list()).toEqual([]);
    // The damaged text is left in the file, for the operator to look at.
    expect(await readFile(file, "utf8")).toContain(whole.slice(0, whole.length >> 1));
  });

  it("drains one account's alone, and holds nothing: another account's drain at the same time finds its own", async () => {
    const dead = new LocalDeadLetters(join(await tempDir(), "dead-letters.jsonl"));
    const of = (account: string, revision: number): ParkedDelivery => ({ ...parked(revision), delivery: { ...delivery(revision), alertArn: `arn:aws:lookoutmetrics:us-east-1:${account}:Alert:a` } });
    for (let r = 1; r <= 3; r++) await Promise.all([dead.park(of("111111111111", r)), dead.park(of("222222222222", r))]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const seenA: string[] = [];
    const drainA = dead.drain(async (p) => (seenA.push(p.delivery.alertArn), await held, true), { account: "111111111111" });
    const seenB: string[] = [];
    expect(await dead.drain(async (p) => (seenB.push(p.delivery.alertArn.split(":")[4]!), true), { account: "222222222222" })).toEqual({ retried: 3, remaining: 0 });
    expect(seenB).toEqual(["222222222222", "222222222222", "222222222222"]);
    release();
    expect(await drainA).toEqual({ retried: 3, remaining: 0 });
    expect(seenA.every((arn) => arn.includes(":111111111111:"))).toBe(true);
    expect(await dead.list()).toEqual([]);
  });
});
