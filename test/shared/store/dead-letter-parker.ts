/**
 * One OS process of the dead letters' concurrency test (local-dead-letters.test.ts): parks
 * `count` deliveries of one account, one append each, through an instance of its own, a
 * batch of `batch` for each "go" line on stdin; prints "parked" after each batch.
 */
import { createInterface } from "node:readline";
import { LocalDeadLetters } from "../../../shared/store/local-dead-letters.ts";
import { alertOfAccount, deliveriesOf, T0 } from "../../builders.ts";

const [dir, account, tag, count, batch] = [process.argv[2]!, process.argv[3]!, process.argv[4]!, Number(process.argv[5]), Number(process.argv[6])];
const dead = new LocalDeadLetters(dir);
const deliveries = deliveriesOf(alertOfAccount(account), count, { tag });
process.stdout.write("ready\n");
let next = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== "go") continue;
  // One at a time: each its own append, while the parent compacts.
  for (const delivery of deliveries.slice(next, next + batch)) await dead.park({ delivery, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
  next += batch;
  process.stdout.write("parked\n");
  if (next >= count) break;
}
