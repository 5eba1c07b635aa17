// node:http alone, for the bench's alert fan-out: in a process of its own, it sends the
// bytes Vigil's webhook channel sends (each body with its delivery id, signed as the channel
// signs them, with its headers), 64 requests at a time over a keep-alive agent set as the
// channel's agent is, with no routing, no records and no retries. What Vigil's fan-out adds
// to a sender on node:http is the difference; the bench reports both beside Alertmanager.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";

const AT_ONCE = 64;
const TIMEOUT_MS = 30_000;
let messages = [];
let url;
const agent = new Agent({ keepAlive: true, maxSockets: AT_ONCE, maxFreeSockets: AT_ONCE, timeout: TIMEOUT_MS, scheduling: "lifo" });

function post({ id, body }) {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v1=${createHmac("sha256", "bench-secret").update(`${timestamp}.`).update(body).digest("hex")}`;
  const headers = { "content-type": "application/json", "user-agent": "Vigil", "vigil-delivery-id": id, "vigil-timestamp": String(timestamp), "vigil-signature": signature };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers, signal: AbortSignal.timeout(TIMEOUT_MS) }, (res) => {
      res.resume().on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`receiver answered ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function sendAll() {
  let next = 0;
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (next < messages.length) await post(messages[next++]);
    }),
  );
}

process.on("message", async (m) => {
  try {
    if (m.bodies) {
      // One message a line: its delivery id and its body, as the parent rendered them.
      messages = readFileSync(m.bodies, "utf8").split("\n").filter(Boolean).map((line) => {
        const { id, body } = JSON.parse(line);
        return { id, body: Buffer.from(body) };
      });
      url = m.url;
      process.send({ ready: messages.length });
    }
    if (m.send) {
      const cpu = process.cpuUsage();
      await sendAll();
      const spent = process.cpuUsage(cpu);
      process.send({ sent: messages.length, cpuMs: (spent.user + spent.system) / 1000 });
    }
    if (m.stop) {
      agent.destroy();
      process.exit(0);
    }
  } catch (e) {
    process.send({ failed: String(e) });
  }
});
