import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SendResult } from "../../../shared/alerts/channel.ts";
import { HttpReceiver } from "../../receivers/http-receiver.ts";

type Verdict = "sent" | "retry" | "final";

/**
 * What every HTTP channel must make of each status code, written out (Alertmanager's
 * RetryTests): sent on any 2xx; retried on timeouts, throttling and server errors; final
 * on a refusal that would be refused again, and on a redirect (a channel's URL is exact).
 */
export const RETRY_TABLE: readonly (readonly [number, Verdict])[] = [
  [200, "sent"], [201, "sent"], [202, "sent"], [204, "sent"], [226, "sent"], [299, "sent"],
  [300, "final"], [301, "final"], [302, "final"], [304, "final"], [307, "final"], [308, "final"],
  [400, "final"], [401, "final"], [403, "final"], [404, "final"], [405, "final"], [406, "final"],
  [408, "retry"], [409, "final"], [410, "final"], [413, "final"], [415, "final"], [418, "final"],
  [422, "final"], [425, "final"], [426, "final"], [428, "final"], [429, "retry"], [431, "final"], [451, "final"], [499, "final"],
  [500, "retry"], [501, "retry"], [502, "retry"], [503, "retry"], [504, "retry"], [505, "retry"], [507, "retry"], [511, "retry"], [599, "retry"],
];

const verdict = (r: SendResult) => (r.ok ? "sent" : r.retryable ? "retry" : "final");

/**
 * Runs every status code from 200 to 599 through a channel's sender against a real
 * receiver. The Slack and the webhook tests both call it.
 */
export function runRetryTable(name: string, send: (url: string) => Promise<SendResult>, now: () => number = Date.now): void {
  describe(`${name}: the HTTP status table`, () => {
    let receiver: HttpReceiver;
    beforeAll(async () => void (receiver = await HttpReceiver.start()));
    afterAll(() => receiver.stop());

    it("is sent on 2xx, retried on 408, 429 and 5xx, and final on any other", async () => {
      const got: (readonly [number, Verdict])[] = [];
      for (const [status] of RETRY_TABLE) {
        receiver.answer({ status });
        got.push([status, verdict(await send(receiver.url))]);
      }
      expect(got).toEqual(RETRY_TABLE);
      expect(receiver.requests).toHaveLength(RETRY_TABLE.length);
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

    it("reports a receiver that is not there as a retryable network failure, by its kind, not the address it tried", async () => {
      expect(await send("http://127.0.0.1:9/")).toEqual({ ok: false, retryable: true, reason: "NETWORK", detail: "the connection was refused (ECONNREFUSED)" });
    });
  });
}
