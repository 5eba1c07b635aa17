import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SendResult } from "../../../shared/alerts/channel.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";

/** What every HTTP channel must make of each status code (Alertmanager's RetryTests). */
export function expectedOf(status: number): "sent" | "retry" | "final" {
  if (status >= 200 && status < 300) return "sent";
  return status >= 500 || status === 429 || status === 408 ? "retry" : "final";
}

const verdict = (r: SendResult) => (r.ok ? "sent" : r.retryable ? "retry" : "final");

/**
 * Runs every status code from 200 to 599 through a channel's sender against a real
 * receiver. The Slack and the webhook tests both call it.
 */
export function runRetryTable(name: string, send: (url: string) => Promise<SendResult>, now: () => number = Date.now): void {
  describe(`${name}: every HTTP status code`, () => {
    let receiver: HttpReceiver;
    beforeAll(async () => void (receiver = await HttpReceiver.start()));
    afterAll(() => receiver.stop());

    it("is sent on 2xx, retried on 408, 429 and 5xx, and final on any other", async () => {
      // fetch settles two itself: 407 is an error without a proxy; 421 is retried on a fresh connection.
      const statuses = Array.from({ length: 400 }, (_, i) => 200 + i).filter((s) => s !== 407 && s !== 421);
      const got: [number, string][] = [];
      for (const status of statuses) {
        receiver.answer({ status });
        got.push([status, verdict(await send(receiver.url))]);
      }
      expect(got).toEqual(statuses.map((s) => [s, expectedOf(s)]));
      expect(receiver.requests).toHaveLength(statuses.length);
    });

    it("passes on Retry-After of 429 and 503, in seconds or as a date", async () => {
      receiver.answer({ status: 429, headers: { "retry-after": "7" } });
      expect(await send(receiver.url)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000 });
      receiver.answer({ status: 503, headers: { "retry-after": new Date(now() + 120_000).toUTCString() } });
      const r = await send(receiver.url);
      expect(r.ok === false && r.retryAfterMs! > 100_000 && r.retryAfterMs! <= 120_000).toBe(true);
    });

    it("times out on a receiver that never answers, as a retryable failure", async () => {
      receiver.answer("hang");
      expect(await send(receiver.url)).toMatchObject({ ok: false, retryable: true, reason: "TIMEOUT" });
    });

    it("reports a receiver that is not there as a retryable network failure", async () => {
      expect(await send("http://127.0.0.1:9/")).toMatchObject({ ok: false, retryable: true, reason: "NETWORK" });
    });
  });
}
