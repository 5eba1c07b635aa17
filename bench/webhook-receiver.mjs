// The bench's webhook receiver, in a process of its own so that whoever sends to it (Vigil,
// Alertmanager) shares no thread with it. It answers every POST 200 once read; told to
// expect n requests, it reports when the n-th arrived (ms since the epoch, sub-ms), so the
// sender's rate is timed up to the receipt of its last message.
import { createServer } from "node:http";

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
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
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
