import fc from "fast-check";
import { createServer } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { classifyStatus, post, retryAfterMs } from "../../../../shared/channels/common/http.ts";
import { checkedAddress, isPrivateAddress } from "../../../../shared/channels/common/address.ts";
import { HttpReceiver } from "../../../receivers/http-receiver.ts";
import { RETRY_TABLE } from "../retry-table.ts";

describe("classifyStatus", () => {
  it("classifies the status table, and every informational code as final", () => {
    const got = RETRY_TABLE.map(([status]) => {
      const r = classifyStatus(status, null, 0);
      return [status, r.ok ? "sent" : r.retryable ? "retry" : "final"] as const;
    });
    expect(got).toEqual(RETRY_TABLE);
    for (const status of [100, 101, 103]) expect(classifyStatus(status, null, 0)).toMatchObject({ ok: false, retryable: false });
  });

  it("reads Retry-After as seconds or an HTTP date, and ignores nonsense", () => {
    expect(retryAfterMs("120", 0)).toBe(120_000);
    expect(retryAfterMs("Thu, 01 Jan 1970 00:01:00 GMT", 30_000)).toBe(30_000);
    expect(retryAfterMs("soon", 0)).toBeUndefined();
    fc.assert(fc.property(fc.string(), (s) => {
      const ms = retryAfterMs(s, 0);
      expect(ms === undefined || (Number.isFinite(ms) && ms >= 0)).toBe(true);
    }));
  });
});

describe("isPrivateAddress", () => {
  it.each([
    ["127.0.0.1", true],
    ["10.1.2.3", true],
    ["172.31.255.255", true],
    ["192.168.0.10", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["0.0.0.0", true],
    ["::1", true],
    ["fd00:ec2::254", true],
    ["fe80::1", true],
    ["::ffff:127.0.0.1", true],
    ["not an ip", true],
    ["52.94.236.248", false],
    ["172.32.0.1", false],
    ["2600:1f18::1", false],
  ])("%s → %s", (ip, want) => expect(isPrivateAddress(ip)).toBe(want));
});

describe("checkedAddress and a pinned post", () => {
  it("resolves once, refuses a name with any address that is not public, and names the first one to connect to", async () => {
    const calls: string[] = [];
    const resolver = (answers: string[]) => async (host: string) => (calls.push(host), answers);
    expect(await checkedAddress("https://hooks.example.com/x", resolver(["52.94.236.248", "2600:1f18::1"]))).toEqual({ ok: true, address: "52.94.236.248", family: 4 });
    expect(await checkedAddress("https://hooks.example.com/x", resolver(["2600:1f18::1", "52.94.236.248"]))).toEqual({ ok: true, address: "2600:1f18::1", family: 6 });
    // The same reason whether the name resolves to a private address or to none, naming neither: it tells nothing of the network behind.
    const refused = await checkedAddress("https://hooks.example.com/x", resolver(["52.94.236.248", "10.0.0.7"]));
    expect(refused).toMatchObject({ ok: false, reason: expect.stringMatching(/^hooks\.example\.com does not resolve to public addresses only/) });
    expect(await checkedAddress("https://hooks.example.com/x", resolver([]))).toEqual(refused);
    expect(calls).toEqual(Array(4).fill("hooks.example.com"));
    expect(await checkedAddress("http://[::ffff:8.8.8.8]/", resolver([]))).toEqual({ ok: true, address: "::ffff:808:808", family: 6 });
  });

  it("connects to the pinned address, never resolving the name, which still goes as the Host", async () => {
    const receiver = await HttpReceiver.start();
    try {
      const port = new URL(receiver.url).port;
      // The name does not exist: only the pinned address can be reached.
      const result = await post(`http://hooks.vigil.invalid:${port}/in`, "{}", { timeoutMs: 2000, signal: new AbortController().signal, now: Date.now, pinned: { address: "127.0.0.1", family: 4 } });
      expect(result).toEqual({ ok: true });
      expect(receiver.requests.at(-1)).toMatchObject({ path: "/in", body: "{}", headers: { host: `hooks.vigil.invalid:${port}` } });
      expect(await post(`http://hooks.vigil.invalid:${port}/in`, "{}", { timeoutMs: 2000, signal: new AbortController().signal, now: Date.now })).toMatchObject({ ok: false, reason: "NETWORK" });
    } finally {
      await receiver.stop();
    }
  });

  it("keeps connections open for the next message, but never hands a connection made to one address to a request pinned to another", async () => {
    const connections: string[] = [];
    const requests: string[] = [];
    const servers = await Promise.all(
      ["127.0.0.1", "127.0.0.2"].map(async (address) => {
        const server = createServer((req, res) => {
          requests.push(`${address} ${req.socket.remotePort}`);
          req.resume().on("end", () => res.end("ok"));
        });
        server.on("connection", () => connections.push(address));
        return server;
      }),
    );
    await new Promise<void>((r) => servers[0]!.listen(0, "127.0.0.1", r));
    const port = (servers[0]!.address() as AddressInfo).port;
    await new Promise<void>((r) => servers[1]!.listen(port, "127.0.0.2", r));
    try {
      const send = (address: string) => post(`http://hooks.vigil.invalid:${port}/in`, "{}", { timeoutMs: 2000, signal: new AbortController().signal, now: Date.now, pinned: { address, family: 4 } });
      for (const address of ["127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"]) {
        expect(await send(address)).toEqual({ ok: true });
        await new Promise((r) => setImmediate(r)); // the answer's body is read, and the connection freed
      }
      // Each address got its own connection, reused for its later messages; none went to the other address.
      expect(connections.sort()).toEqual(["127.0.0.1", "127.0.0.2"]);
      expect(requests.map((r) => r.split(" ")[0])).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"]);
      expect(new Set(requests.filter((r) => r.startsWith("127.0.0.1 "))).size).toBe(1);
    } finally {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    }
  });
});

describe("post under an invocation's signal", () => {
  it("ends every request in flight under a signal when it aborts, and only those", async () => {
    const receiver = await HttpReceiver.start();
    try {
      receiver.answer("hang", "hang", "hang", "hang");
      const [first, second] = [new AbortController(), new AbortController()];
      const send = (signal: AbortSignal) => post(`${receiver.url}/in`, "{}", { timeoutMs: 30_000, signal, now: Date.now });
      const cut = [send(first.signal), send(first.signal), send(first.signal)];
      const other = send(second.signal);
      let otherDone = false;
      void other.then(() => (otherDone = true));
      // Aborted while the receiver holds all four, whatever the machine's pace.
      while (receiver.requests.length < 4) await new Promise((r) => setTimeout(r, 5));
      first.abort();
      expect(await Promise.all(cut)).toEqual(Array(3).fill({ ok: false, retryable: true, reason: "TIMEOUT", detail: "the invocation ran out of time" }));
      await new Promise((r) => setTimeout(r, 50));
      expect(otherDone).toBe(false);
      second.abort();
      expect(await other).toMatchObject({ ok: false, reason: "TIMEOUT" });
      // A signal already aborted sends nothing; a new one sends as before.
      expect(await send(first.signal)).toMatchObject({ ok: false, retryable: true });
      expect(receiver.requests).toHaveLength(4);
      expect(await send(new AbortController().signal)).toEqual({ ok: true });
    } finally {
      await receiver.stop();
    }
  });
});

describe("post to a URL with credentials", () => {
  it("sends them as Basic authorization, unless the channel's own headers hold one", async () => {
    const receiver = await HttpReceiver.start();
    try {
      const url = new URL(`${receiver.url}/in`);
      url.username = "hook";
      url.password = "p@ss:word";
      const send = (headers?: Record<string, string>) => post(url.href, "{}", { timeoutMs: 2000, signal: new AbortController().signal, now: Date.now, ...(headers ? { headers } : {}) });
      expect(await send()).toEqual({ ok: true });
      expect(receiver.requests.at(-1)?.headers["authorization"]).toBe(`Basic ${Buffer.from("hook:p@ss:word").toString("base64")}`);
      expect(await send({ Authorization: "Bearer own" })).toEqual({ ok: true });
      expect(receiver.requests.at(-1)?.headers["authorization"]).toBe("Bearer own");
    } finally {
      await receiver.stop();
    }
  });
});

describe("post's headers", () => {
  it("sends each name once, the last given winning whatever its case (node:http's setHeader)", async () => {
    const receiver = await HttpReceiver.start();
    try {
      const result = await post(`${receiver.url}/in`, "{}", { timeoutMs: 2000, signal: new AbortController().signal, now: Date.now, headers: { "X-Team": "a", "Vigil-Signature": "forged", "vigil-signature": "v1=ours" } });
      expect(result).toEqual({ ok: true });
      const sent = receiver.requests.at(-1)!;
      expect(sent.headers["vigil-signature"]).toBe("v1=ours");
      expect(sent.headers["x-team"]).toBe("a");
      expect(sent.headers["content-type"]).toBe("application/json");
    } finally {
      await receiver.stop();
    }
  });
});

describe("post to a receiver that sends an interim answer", () => {
  // RFC 9110 §15.2: a client reads past any 1xx to the final answer, even one it did not ask for
  // (such receivers exist). undici's HTTP/1.1 client drops the connection on it, which is one
  // reason messages go through node:http.
  it("takes the final answer after an unasked-for 100 Continue", async () => {
    const server = createNetServer((socket) => {
      let head = "";
      socket.on("data", (chunk) => {
        head += chunk.toString("latin1");
        if (head.includes("\r\n\r\n") && head.endsWith("{}")) socket.end("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      expect(await post(`http://127.0.0.1:${port}/in`, "{}", { timeoutMs: 2000, signal: new AbortController().signal, now: Date.now })).toEqual({ ok: true });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
