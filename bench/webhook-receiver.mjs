// The bench's webhook receiver, in a process of its own so that whoever sends to it (Vigil,
// Alertmanager) shares no thread with it. It answers every POST 200 once read; told to
// expect n requests, it reports when the n-th arrived (ms since the epoch, sub-ms), so the
// sender's rate is timed up to the receipt of its last message.
import { Agent, createServer, request } from "node:http";

const now = () => performance.timeOrigin + performance.now();
let expected = 0;
let count = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.end("ok");
    if (++count === expected) process.send({ done: now(), count });
  });
});
// Warmed up on requests of its own before anyone is timed: otherwise whoever is timed first
// meets a receiver still compiling its code, and those after it one already warm.
server.listen(0, "127.0.0.1", async () => {
  const { port } = server.address();
  await warmUp(port, 4000);
  count = 0;
  process.send({ port });
});

async function warmUp(port, n) {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const body = JSON.stringify({ warmUp: "x".repeat(6000) });
  const post = () =>
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/warm-up", method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => res.resume().on("end", resolve));
      req.on("error", reject);
      req.end(body);
    });
  let sent = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (sent++ < n) await post();
  }));
  agent.destroy();
}
process.on("message", (m) => {
  if (m.expect !== undefined) {
    expected = m.expect;
    count = 0;
    process.send({ expecting: m.expect });
  }
  if (m.count) process.send({ count });
  if (m.stop) server.close(() => process.exit(0));
  if (m.stop) server.closeAllConnections();
});
