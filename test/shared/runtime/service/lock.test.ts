import { spawn } from "node:child_process";
import { existsSync, readFileSync, utimesSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { bundledScript } from "../../../child-scripts.ts";
import { lockDataDir } from "../../../../shared/runtime/service/lock.ts";
import { tempDir } from "../../../builders.ts";

const STARTING = 8;
const ROUNDS = 15;

/** A process about to take the lock (lock-taker.ts, bundled), waiting for "go". */
async function taker(script: string, lock: string) {
  const child = spawn(process.execPath, [script, lock], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  if ((await lines.next()).value !== "ready") throw new Error("a lock taker did not start");
  return {
    go: () => child.stdin.write("go\n"),
    /** Whether it took the lock; it holds it until `stop`. */
    won: async () => (await lines.next()).value === "won",
    stop: () => child.stdin.end(),
  };
}

/** `starting` serves let go at once over `lock`, left by a stopped one: how many took it. */
async function winnersOf(script: string, lock: string, starting: number): Promise<number> {
  await writeFile(lock, "999999999"); // no such process
  const takers = await Promise.all(Array.from({ length: starting }, () => taker(script, lock)));
  for (const t of takers) t.go();
  const won = (await Promise.all(takers.map((t) => t.won()))).filter(Boolean).length;
  for (const t of takers) t.stop();
  return won;
}

describe("the data directory's lock", () => {
  it("is taken by one of several serves started at once over a lock a stopped one left", async () => {
    const dir = await tempDir();
    const script = await bundledScript(join(import.meta.dirname, "lock-taker.ts"), join(dir, "taker.mjs"));
    const winners: number[] = [];
    for (let round = 0; round < ROUNDS; round++) winners.push(await winnersOf(script, join(dir, `serve-${round}.lock`), STARTING));
    expect(winners).toEqual(Array.from({ length: ROUNDS }, () => 1));
    // And by one of 50.
    expect(await winnersOf(script, join(dir, "serve-50.lock"), 50)).toBe(1);
  }, 120_000);
});

describe("the data directory's lock, taken over from a serve that stopped in its takeover", () => {
  it("is taken once the takeover it left is past its age, not refused at once", async () => {
    const dir = await tempDir();
    const lock = join(dir, "serve.lock");
    await writeFile(lock, "999999999"); // no such process
    // A takeover left behind, nearly past its age (10 s): a start waits out the rest.
    await writeFile(`${lock}.takeover`, "999999999");
    const nearlyOld = (Date.now() - 9_700) / 1000;
    utimesSync(`${lock}.takeover`, nearlyOld, nearlyOld);
    const release = lockDataDir(lock);
    expect(readFileSync(lock, "utf8")).toBe(String(process.pid));
    expect(existsSync(`${lock}.takeover`)).toBe(false);
    release();
  });

  it("is taken over when left empty by a start that stopped as it wrote it (on a filesystem without hard links), once the wait for it is over", async () => {
    const dir = await tempDir();
    const lock = join(dir, "serve.lock");
    await writeFile(lock, "");
    const release = lockDataDir(lock);
    expect(readFileSync(lock, "utf8")).toBe(String(process.pid));
    release();
  }, 30_000);
});
