import { lookup } from "node:dns/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { alertMessage } from "../../shared/alerts/message.ts";
import { isPrivateAddress } from "../../shared/channels/common/address.ts";
import { literalSecrets } from "../../shared/channels/common/secrets.ts";
import { WebhookSender } from "../../shared/channels/webhook/sender.ts";
import { alertNamed, anomalyGroupEvent } from "../builders.ts";
import { HttpReceiver } from "../receivers/http-receiver.ts";

// The system resolver, so that a test can make a name answer one address, then another.
vi.mock("node:dns/promises", async (original) => {
  const real = await original<typeof import("node:dns/promises")>();
  return { ...real, lookup: vi.fn(real.lookup) };
});

/** Every range an alert URL must not reach, by the way it is written. */
const NOT_PUBLIC: [string, string][] = [
  ["::7f00:1", "IPv4-compatible loopback"],
  ["::127.0.0.1", "IPv4-compatible loopback, dotted"],
  ["::a9fe:a9fe", "IPv4-compatible metadata service"],
  ["64:ff9b::7f00:1", "NAT64 of loopback"],
  ["64:ff9b::a9fe:a9fe", "NAT64 of the metadata service"],
  ["64:ff9b::a00:1", "NAT64 of 10/8"],
  ["64:ff9b:1::a00:1", "local-use NAT64"],
  ["2002:7f00:1::1", "6to4 of loopback"],
  ["2002:a9fe:a9fe::1", "6to4 of the metadata service"],
  ["2002:808:808::1", "6to4 (a transition range)"],
  ["2001::1", "Teredo"],
  ["fec0::1", "site-local"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local with a zone"],
  ["ff02::1", "multicast"],
  ["fc00::1", "unique-local"],
  ["fd00:ec2::254", "unique-local (the metadata service over IPv6)"],
  ["::1", "loopback"],
  ["::", "unspecified"],
  ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
  ["::ffff:7f00:1", "IPv4-mapped loopback, hex"],
  ["::ffff:0:7f00:1", "IPv4-translated loopback"],
  ["2001:db8::1", "documentation"],
  ["100::1", "discard"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["10.0.0.1", "private"],
  ["172.16.0.1", "private"],
  ["192.168.1.1", "private"],
  ["169.254.169.254", "link-local (metadata service)"],
  ["100.64.0.1", "carrier-grade NAT"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "this network"],
  ["224.0.0.1", "multicast"],
  ["255.255.255.255", "broadcast"],
  ["240.0.0.1", "reserved"],
  ["192.0.0.1", "IETF protocol assignments"],
  ["192.0.2.1", "documentation"],
  ["198.18.0.1", "benchmarking"],
  ["not an ip", "not an address"],
];
const PUBLIC = ["8.8.8.8", "52.94.236.248", "172.32.0.1", "2600:1f18::1", "2a00:1450:4001:81b::200e", "64:ff9b::808:808", "::ffff:8.8.8.8"];

const message = alertMessage(alertNamed("a"), anomalyGroupEvent(), "first", "http://localhost:8087");
const signal = new AbortController().signal;
const guarded = () => new WebhookSender({ secrets: literalSecrets, timeoutMs: 1000, blockPrivateAddresses: true, now: Date.now });

describe("the private-address guard", () => {
  it.each(NOT_PUBLIC)("refuses %s (%s)", (ip) => expect(isPrivateAddress(ip)).toBe(true));
  it.each(PUBLIC)("lets %s through", (ip) => expect(isPrivateAddress(ip)).toBe(false));

  describe("on a webhook's URL", () => {
    let receiver: HttpReceiver;
    beforeAll(async () => void (receiver = await HttpReceiver.start()));
    afterAll(() => receiver.stop());

    it("refuses URLs written in any of those forms, without calling", async () => {
      const port = new URL(receiver.url).port;
      for (const host of ["[::7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::1]", "[fec0::1]", "[::ffff:7f00:1]", "2130706433", "0x7f.1", "0177.0.0.1", "127.1"]) {
        expect(await guarded().send(message, { kind: "webhook", url: `http://${host}:${port}/hook` }, signal), host).toMatchObject({ ok: false, retryable: false, reason: "BLOCKED_URL" });
      }
      expect(receiver.requests).toHaveLength(0);
    });

    it("connects to the address it checked: a name that answers public, then private, never reaches the private one", async () => {
      const answers = vi.mocked(lookup) as unknown as { mockImplementation: (f: () => Promise<{ address: string; family: number }[]>) => void };
      let calls = 0;
      // 93.184.215.14 is public and, with no route out of this machine, unreachable.
      answers.mockImplementation(async () => (calls++ === 0 ? [{ address: "93.184.215.14", family: 4 }] : [{ address: "127.0.0.1", family: 4 }]));
      const before = receiver.requests.length;
      const result = await guarded().send(message, { kind: "webhook", url: `http://localhost:${new URL(receiver.url).port}/hook` }, signal);
      expect(receiver.requests).toHaveLength(before);
      expect(result).toMatchObject({ ok: false, retryable: true });
      expect(calls).toBe(1);
    });
  });
});
