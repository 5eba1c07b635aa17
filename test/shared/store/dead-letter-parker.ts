/**
 * One OS process of the dead letters' concurrency test (local-dead-letters.test.ts): parks
 * `count` deliveries of one account, one append each, through an instance of its own.
 * Waits for "go" on stdin; prints "done" once every park returned.
 */
import { createInterface } from "node:readline";
import { LocalDeadLetters } from "../../../shared/store/local-dead-letters.ts";
import { alertOfAccount, deliveriesOf, T0 } from "../../builders.ts";

const [dir, account, tag, count] = [process.argv[2]!, process.argv[3]!, process.argv[4]!, Number(process.argv[5])];
const dead = new LocalDeadLetters(dir);
const deliveries = deliveriesOf(alertOfAccount(account), count, { tag });
process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) if (line === "go") break;
// One at a time: each its own append, spread over the parent's compactions.
for (const delivery of deliveries) await dead.park({ delivery, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
process.stdout.write("done\n");
