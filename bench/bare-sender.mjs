// A floor for the bench's alert fan-out: node:http alone, in a process of its
// own, sending the bytes Vigil's webhook channel sends (each body signed as it signs them,
// 64 requests at a time over a keep-alive agent configured as its agent is), with no
// routing, no records and no retries. Whatever Vigil adds to it, a sender on node:http
// goes no faster than this: the bench reports it beside Alertmanager.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";

const AT_ONCE = 64;
let bodies = [];
let url;
const agent = new Agent({ keepAlive: true, maxSockets: AT_ONCE, maxFreeSockets: AT_ONCE, scheduling: "lifo" });

function post(body, i) {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v1=${createHmac("sha256", "bench-secret").update(`${timestamp}.`).update(body).digest("hex")}`;
  const headers = { "content-type": "application/json", "content-length": body.length, "vigil-delivery-id": `bare-${i}`, "vigil-timestamp": String(timestamp), "vigil-signature": signature };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers }, (res) => {
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
      while (next < bodies.length) {
        const i = next++;
        await post(bodies[i], i);
      }
    }),
  );
}

process.on("message", async (m) => {
  try {
    if (m.bodies) {
      // One JSON body a line, as the parent rendered them.
      bodies = readFileSync(m.bodies, "utf8").split("\n").filter(Boolean).map((line) => Buffer.from(line));
      url = m.url;
      process.send({ ready: bodies.length });
    }
    if (m.send) {
      const cpu = process.cpuUsage();
      await sendAll();
      const spent = process.cpuUsage(cpu);
      process.send({ sent: bodies.length, cpuMs: (spent.user + spent.system) / 1000 });
    }
    if (m.stop) {
      agent.destroy();
      process.exit(0);
    }
  } catch (e) {
    process.send({ failed: String(e) });
  }
});
