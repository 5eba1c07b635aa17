/**
 * One `vigil serve` starting, as the lock test (lock.test.ts) races several: waits for "go"
 * on stdin, tries to take the data directory's lock, prints "won" or "lost", and holds what it
 * took (staying alive, so that its lock is not stale) until stdin closes.
 */
import { createInterface } from "node:readline";
import { lockDataDir } from "../../../../shared/runtime/service/lock.ts";

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write("ready\n");
while ((await lines.next()).value !== "go");
let won = false;
try {
  lockDataDir(process.argv[2]!);
  won = true;
} catch {
  // Held by another: lost.
}
process.stdout.write(won ? "won\n" : "lost\n");
while (!(await lines.next()).done);
