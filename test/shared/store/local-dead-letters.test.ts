import { spawn } from "node:child_process";
import { once } from "node:events";
import { appendFile, mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { bundledScript } from "../../child-scripts.ts";
import { describe, expect, it, vi } from "vitest";
import type { Delivery, ParkedDelivery } from "../../../shared/alerts/delivery.ts";
import { ReplayIncomplete } from "../../../shared/alerts/replay.ts";
import { alertMessage } from "../../../shared/alerts/message.ts";
import { arnAccount } from "../../../shared/model/ids.ts";
import { deadLetterFileName, linesOf, LOCAL_PARKED_PAGE, LocalDeadLetters, MAX_LINE_BYTES, type DamagedLine } from "../../../shared/store/local-dead-letters.ts";
import { alertNamed, alertOfAccount, anomalyGroupEvent, deliveriesOf, T0, tempDir } from "../../builders.ts";

/** Run once, by the next write to a file opened for appending, before it writes: where a compaction can be put between an append's open and its write. */
const hooks = vi.hoisted(() => ({ beforeAppend: undefined as (() => Promise<unknown>) | undefined, onRename: undefined as ((from: string, to: string) => void) | undefined }));
vi.mock("node:fs/promises", async (original) => {
  const fs = await original<typeof import("node:fs/promises")>();
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const handle = await fs.open(...args);
      const hook = args[1] === "a" ? hooks.beforeAppend : undefined;
      if (hook) {
        hooks.beforeAppend = undefined;
        const write = handle.write.bind(handle) as (...w: unknown[]) => Promise<unknown>;
        Object.assign(handle, { write: async (...w: unknown[]) => (await hook(), write(...w)) });
      }
      return handle;
    },
    rename: async (from: string, to: string) => (hooks.onRename?.(from, to), fs.rename(from, to)),
  };
});

const delivery = (revision: number): Delivery => {
  const message = alertMessage(alertNamed("a"), anomalyGroupEvent({ revision }), "first", "x");
  return { deliveryId: message.deliveryId, alertArn: message.alert.arn, message };
};
const parked = (revision: number): ParkedDelivery => ({ delivery: delivery(revision), reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 });
const ids = (all: readonly ParkedDelivery[]) => all.map((p) => p.delivery.deliveryId);
const A = "111111111111";
const B = "222222222222";
const C = "333333333333";
const D = "444444444444";
/** `n` parked deliveries of `account`'s alert. */
const parkedOf = (account: string, n: number, tag = "aaaa"): ParkedDelivery[] => deliveriesOf(alertOfAccount(account), n, { tag }).map((d) => ({ delivery: d, reason: "HTTP_STATUS", detail: "HTTP 500", attempts: 5, parkedAt: T0 }));
const settledLine = (p: ParkedDelivery) => JSON.stringify({ settled: { deliveryId: p.delivery.deliveryId, parkedAt: p.parkedAt } });
/** The non-blank lines of a file. */
const linesIn = async (file: string) => (await readFile(file, "utf8").catch(() => "")).split("\n").filter((l) => l.trim());
/** Dead letters over a new folder, with what they reported damaged. */
async function deadLetters(options: { legacyFile?: string } = {}) {
  const dir = join(await tempDir(), "dead-letters");
  const damaged: DamagedLine[] = [];
  return { dir, damaged, dead: new LocalDeadLetters(dir, { ...options, onDamaged: (d) => damaged.push(d) }) };
}
/** A pid no process has any more: one that ran and exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await once(child, "exit");
  return child.pid!;
}

describe("the local dead-letter files", () => {
  it("keeps parking and replaying after an append cut short (a full disk): the cut line is skipped, no line after it is lost, and the compaction keeps it aside", async () => {
    const { dead, damaged } = await deadLetters();
    const file = dead.fileOf(arnAccount(delivery(1).alertArn));
    await dead.park(parked(1));
    // What an append that failed part way leaves: the start of a line, no line break.
    const whole = `${JSON.stringify(parked(2))}\n`;
    await appendFile(file, whole.slice(0, whole.length >> 1));
    await dead.park(parked(3));
    await dead.park(parked(4));

    expect(ids(await dead.list())).toEqual(ids([parked(1), parked(3), parked(4)]));
    expect(damaged).toMatchObject([{ file, reason: expect.stringMatching(/not a parked delivery/) }]);
    const seen: string[] = [];
    expect(await dead.drain(async (p) => (seen.push(p.delivery.deliveryId), true))).toEqual({ retried: 3, remaining: 0 });
    expect(seen.sort()).toEqual(ids([parked(1), parked(3), parked(4)]).sort());
    expect(await dead.list()).toEqual([]);
    // The damaged text is kept aside, for the operator to look at; the file is gone, nothing being left in it.
    expect(await readFile(`${file}.damaged`, "utf8")).toContain(whole.slice(0, whole.length >> 1));
    expect(await linesIn(file)).toEqual([]);
  });

  it("drains one account's alone, and holds nothing: another account's drain at the same time finds its own", async () => {
    const { dead } = await deadLetters();
    const of = (account: string, revision: number): ParkedDelivery => ({ ...parked(revision), delivery: { ...delivery(revision), alertArn: `arn:aws:lookoutmetrics:us-east-1:${account}:Alert:a` } });
    for (let r = 1; r <= 3; r++) await Promise.all([dead.park(of(A, r)), dead.park(of(B, r))]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const seenA: string[] = [];
    const drainA = dead.drain(async (p) => (seenA.push(p.delivery.alertArn), await held, true), { account: A });
    const seenB: string[] = [];
    expect(await dead.drain(async (p) => (seenB.push(p.delivery.alertArn.split(":")[4]!), true), { account: B })).toEqual({ retried: 3, remaining: 0 });
    expect(seenB).toEqual([B, B, B]);
    release();
    expect(await drainA).toEqual({ retried: 3, remaining: 0 });
    expect(seenA.every((arn) => arn.includes(`:${A}:`))).toBe(true);
    expect(await dead.list()).toEqual([]);
  });

  it("retries a page of 25 at a time, settles each page as it goes, and takes no page once aborted", async () => {
    const { dead } = await deadLetters();
    const all = parkedOf(A, 60);
    await Promise.all(all.map((p) => dead.park(p)));
    let inFlight = 0;
    let most = 0;
    const abort = new AbortController();
    const seen: string[] = [];
    const result = await dead.drain(
      async (p) => {
        seen.push(p.delivery.deliveryId);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        // Once the second page is under way, aborted: no third page.
        if (seen.length > LOCAL_PARKED_PAGE) abort.abort();
        return true;
      },
      { account: A, signal: abort.signal },
    );
    expect(most).toBe(LOCAL_PARKED_PAGE);
    expect(result).toEqual({ retried: 50, remaining: 0 });
    expect(seen).toEqual(ids(all.slice(0, 50)));
    expect(ids(await dead.list())).toEqual(ids(all.slice(50)));
  });

  it("goes on with the other accounts in the operator's replay past each one whose retry throws (undefined too) or whose file cannot be read, and names every account stopped", async () => {
    const { dead } = await deadLetters();
    const ofA = parkedOf(A, LOCAL_PARKED_PAGE + 5);
    const ofC = parkedOf(C, 3, "cccc");
    await Promise.all([...ofA, ...parkedOf(B, 3, "bbbb"), ...ofC, ...parkedOf(D, 2, "dddd")].map((p) => dead.park(p)));
    // D's file is a folder now: it cannot be read.
    await rm(dead.fileOf(D));
    await mkdir(dead.fileOf(D));
    const bad = new Set([ofA[2]!.delivery.deliveryId, ofC[1]!.delivery.deliveryId]);
    const seen: string[] = [];
    const retry = async (p: ParkedDelivery) => {
      seen.push(arnAccount(p.delivery.alertArn));
      // A's throws an error; C's rejects with undefined, which stops its account all the same.
      if (bad.has(p.delivery.deliveryId)) return arnAccount(p.delivery.alertArn) === A ? Promise.reject(new Error("A's delivery cannot be read")) : Promise.reject(undefined);
      return true;
    };
    const stopped = await dead.drain(retry).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stopped).toBeInstanceOf(ReplayIncomplete);
    expect(stopped).toMatchObject({ stopped: [{ account: A, failure: { message: "A's delivery cannot be read" } }, { account: C, failure: undefined }, { account: D, failure: { code: "EISDIR" } }], counts: { retried: LOCAL_PARKED_PAGE - 1 + 3 + 2, remaining: 2 } });
    // B's file comes after A's: all of it was sent. Of A's, the first page was tried (its other outcomes stand), the rest never.
    expect(seen.filter((a) => a === B)).toHaveLength(3);
    expect(seen.filter((a) => a === A)).toHaveLength(LOCAL_PARKED_PAGE);
    expect(await dead.list(B)).toEqual([]);
    expect(ids(await dead.list(A))).toEqual([ofA[2]!.delivery.deliveryId, ...ids(ofA.slice(LOCAL_PARKED_PAGE))]);
    expect(ids(await dead.list(C))).toEqual([ofC[1]!.delivery.deliveryId]);
    // An account's own replay stops at its failure, and throws it as it was.
    await expect(dead.drain(retry, { account: A })).rejects.toThrow("A's delivery cannot be read");
  });

  it("names an account whose file cannot be folded after its replay, keeps a retry's own failure before the fold's, and throws a tenant's undefined rejection as it was", async () => {
    const { dead } = await deadLetters();
    const ofB = parkedOf(B, 3, "bbbb");
    await Promise.all([...parkedOf(A, 3), ...ofB].map((p) => dead.park(p)));
    // Every fold's move of the file aside fails: each account's replay settles lines, then folds its file.
    hooks.onRename = (_, to) => {
      if (to.endsWith(".rotated")) throw Object.assign(new Error(`EACCES: permission denied, rename to ${to}`), { code: "EACCES" });
    };
    try {
      const retry = async (p: ParkedDelivery) => {
        if (p.delivery.deliveryId === ofB[0]!.delivery.deliveryId) throw new Error("B's own failure");
        return true;
      };
      const stopped = await dead.drain(retry).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(stopped).toMatchObject({ stopped: [{ account: A, failure: { code: "EACCES" } }, { account: B, failure: { message: "B's own failure" } }], counts: { retried: 5, remaining: 1 } });
    } finally {
      hooks.onRename = undefined;
    }
    // A tenant's replay whose retry rejects with undefined stops there and rejects with it, as it was.
    await expect(dead.drain(async () => Promise.reject(undefined), { account: B })).rejects.toBeUndefined();
  });

  it("files each account's deliveries apart, and an account's replay reads its own file alone", async () => {
    const { dir, dead, damaged } = await deadLetters();
    await Promise.all([...parkedOf(A, 2), ...parkedOf(B, 3)].map((p) => dead.park(p)));
    expect((await readdir(dir)).sort()).toEqual([deadLetterFileName(A), deadLetterFileName(B)].sort());
    expect(await linesIn(dead.fileOf(A))).toHaveLength(2);
    expect(await linesIn(dead.fileOf(B))).toHaveLength(3);
    // B's file spoiled: A's replay never reads it, and hears nothing of it.
    await appendFile(dead.fileOf(B), `\n${"x".repeat(100)}\n`);
    expect(await dead.drain(async () => true, { account: A })).toEqual({ retried: 2, remaining: 0 });
    expect(damaged).toEqual([]);
    // The operator's replay reads every account's.
    expect(await dead.drain(async () => false)).toEqual({ retried: 0, remaining: 3 });
    expect(damaged).toMatchObject([{ file: dead.fileOf(B) }]);
    // An account whose name is not a file name's: its own file, no way out of the folder.
    expect(deadLetterFileName("../../etc/passwd")).toMatch(/^etcpasswd\.[0-9a-f]{16}\.jsonl$/);
    expect(deadLetterFileName("a/b")).not.toBe(deadLetterFileName("ab"));
  });

  it("compacts once dead lines outnumber live ones: the file keeps exactly the unsettled parked lines, once each", async () => {
    const { dead } = await deadLetters();
    const all = parkedOf(A, 10);
    await Promise.all(all.map((p) => dead.park(p)));
    // A line written twice (two appends of one delivery) counts once.
    await appendFile(dead.fileOf(A), `\n${JSON.stringify(all[0])}\n`);
    const file = dead.fileOf(A);
    // Three settled of ten: 3 + 1 dead lines, 7 live: left as it is.
    const firstThree = new Set(ids(all.slice(0, 3)));
    expect(await dead.drain(async (p) => firstThree.has(p.delivery.deliveryId))).toEqual({ retried: 3, remaining: 7 });
    expect(await linesIn(file)).toHaveLength(14);
    // Four more: 3 + 4 settled lines and their parked ones, and the copy, outnumber the 3 live: compacted.
    const nextFour = new Set(ids(all.slice(3, 7)));
    expect(await dead.drain(async (p) => nextFour.has(p.delivery.deliveryId))).toEqual({ retried: 4, remaining: 3 });
    expect((await linesIn(file)).map((l) => JSON.parse(l) as ParkedDelivery)).toEqual(all.slice(7));
    expect(ids(await dead.list())).toEqual(ids(all.slice(7)));
    expect((await readdir(join(file, ".."))).filter((n) => n !== deadLetterFileName(A))).toEqual([]);
  });

  it("loses nothing parked by another instance while it compacts, again and again", async () => {
    const { dir, dead } = await deadLetters();
    const settledOnes = parkedOf(A, 50, "bbbb");
    await Promise.all(settledOnes.map((p) => dead.park(p)));
    await appendFile(dead.fileOf(A), settledOnes.map((p) => `\n${settledLine(p)}\n`).join(""));
    const other = new LocalDeadLetters(dir);
    const fresh = parkedOf(A, 200);
    // Each park starts with a compaction of the file it appends to.
    let compactions = 0;
    for (const p of fresh) {
      const [compacted] = await Promise.all([dead.compact(dead.fileOf(A)), other.park(p)]);
      if (compacted) compactions++;
    }
    expect(compactions).toBe(fresh.length);
    expect(ids(await dead.list()).sort()).toEqual(ids(fresh).sort());
    await dead.compact(dead.fileOf(A));
    expect((await linesIn(dead.fileOf(A))).length).toBe(200);
  });

  it("appends again what it wrote to a file a compaction had renamed aside and folded meanwhile", async () => {
    const { dir, dead } = await deadLetters();
    const [first, second] = parkedOf(A, 2);
    await dead.park(first!);
    // The park of the second opens the file; before it writes, the whole file is folded and removed.
    let compacted: boolean | undefined;
    hooks.beforeAppend = async () => (compacted = await dead.compact(dead.fileOf(A)));
    await new LocalDeadLetters(dir).park(second!);
    expect(compacted).toBe(true);
    expect(ids(await dead.list())).toEqual(ids([first!, second!]));
  });

  it("loses nothing parked by two other processes while it compacts", async () => {
    const { dir, dead } = await deadLetters();
    const script = join(dir, "..", "parker.mjs");
    await bundledScript(join(import.meta.dirname, "dead-letter-parker.ts"), script);
    const settledOnes = parkedOf(A, 100, "bbbb");
    await Promise.all(settledOnes.map((p) => dead.park(p)));
    await appendFile(dead.fileOf(A), settledOnes.map((p) => `\n${settledLine(p)}\n`).join(""));
    const [PER, BATCH] = [150, 10];
    const parkers = await Promise.all(
      ["cccc", "dddd"].map(async (tag) => {
        const child = spawn(process.execPath, [script, dir, A, tag, String(PER), String(BATCH)], { stdio: ["pipe", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const exited = once(child, "exit");
        const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        const next = async (expected: string) => {
          const line = await lines.next();
          if (line.value !== expected) throw new Error(`parker said ${String(line.value)}, not ${expected}: ${stderr}`);
        };
        await next("ready");
        return { batch: () => (child.stdin.write("go\n"), next("parked")), end: () => child.stdin.end(), exited };
      }),
    );
    // Each batch of both parkers' appends meets at least one compaction: the parent compacts until both have parked it.
    let compactions = 0;
    for (let sent = 0; sent < PER; sent += BATCH) {
      let parked = false;
      const batches = Promise.all(parkers.map((p) => p.batch())).then(() => void (parked = true));
      do if (await dead.compact(dead.fileOf(A))) compactions++;
      while (!parked);
      await batches;
    }
    for (const p of parkers) p.end();
    for (const p of parkers) expect((await p.exited)[0]).toBe(0);
    expect(compactions).toBeGreaterThanOrEqual(PER / BATCH);
    const expected = [...parkedOf(A, PER, "cccc"), ...parkedOf(A, PER, "dddd")];
    // Nothing was taken for damaged: no write was cut into.
    expect(await readdir(dir)).toEqual([deadLetterFileName(A)]);
    expect(ids(await dead.list()).sort()).toEqual(ids(expected).sort());
    await dead.compact(dead.fileOf(A));
    expect(await linesIn(dead.fileOf(A))).toHaveLength(2 * PER);
  }, 60_000);

  it("recovers what a compaction that stopped part way left: its rotated file, a partial append of its lines, its lock", async () => {
    const { dir, dead } = await deadLetters();
    const file = dead.fileOf(A);
    const [kept, sent, later] = [parkedOf(A, 3, "aaaa"), parkedOf(A, 2, "bbbb"), parkedOf(A, 2, "cccc")];
    const pid = await deadPid();
    await mkdir(dir, { recursive: true });
    // The file it had renamed aside: parked lines, two of them settled.
    await writeFile(`${file}.${pid}-0.rotated`, [...kept, ...sent].map((p) => `${JSON.stringify(p)}\n`).join("") + sent.map((p) => `${settledLine(p)}\n`).join(""));
    // The new file: parked since, the start of its append of the kept lines, cut short, and another parked after.
    const keptText = kept.map((p) => `${JSON.stringify(p)}\n`).join("");
    await writeFile(file, `\n${JSON.stringify(later[0])}\n` + `\n${keptText.slice(0, keptText.length - 20)}` + `\n${JSON.stringify(later[1])}\n`);
    await writeFile(`${file}.lock`, `${pid} 0123456789abcdef`);
    await writeFile(`${file}.${pid}-1.locking`, `${pid} 0123456789abcdef`);

    // Read before the recovery: nothing is missing, nothing counts twice.
    expect(ids(await dead.list()).sort()).toEqual(ids([...kept, ...later]).sort());
    // A replay recovers it (the lock's process is gone).
    expect(await dead.drain(async () => false)).toEqual({ retried: 0, remaining: 5 });
    expect((await readdir(dir)).filter((n) => /\.(rotated|lock|locking)$/.test(n))).toEqual([]);
    expect(ids((await linesIn(file)).map((l) => JSON.parse(l) as ParkedDelivery)).sort()).toEqual(ids([...kept, ...later]).sort());
    // The cut line is kept aside.
    expect(await linesIn(`${file}.damaged`)).toHaveLength(1);
  });

  it("folds what an earlier process of the same pid left (a container's pid 1, restarted), never renaming a file over it", async () => {
    const { dead } = await deadLetters();
    const file = dead.fileOf(A);
    const [first] = parkedOf(A, 1);
    await dead.park(first!);
    // The number this process's next names take: the one after its last compaction's.
    let renamedTo: string | undefined;
    hooks.onRename = (_, to) => (renamedTo ??= to);
    expect(await dead.compact(file)).toBe(true);
    hooks.onRename = undefined;
    const n = Number(/-(\d+)\.rotated$/.exec(renamedTo!)![1]);
    // Rotated files an earlier process with this pid left, under the names this one would take next.
    const left = parkedOf(A, 10, "ffff");
    for (const [k, p] of left.entries()) await writeFile(`${file}.${process.pid}-${n + 1 + k}.rotated`, `${JSON.stringify(p)}\n`);
    expect(await dead.compact(file)).toBe(true);
    expect(ids(await dead.list()).sort()).toEqual(ids([first!, ...left]).sort());
  });

  it("takes over a lock left by an earlier process that had this pid, and not one this process holds", async () => {
    const { dir, dead } = await deadLetters();
    const file = dead.fileOf(A);
    const [kept, sent] = parkedOf(A, 2);
    await dead.park(kept!);
    await dead.park(sent!);
    await appendFile(file, `\n${settledLine(sent!)}\n`);
    // Held by another instance of this process, mid-way through its compaction (appending the kept line): left alone.
    let other: boolean | undefined;
    hooks.beforeAppend = async () => (other = await new LocalDeadLetters(dir).compact(file));
    expect(await dead.compact(file)).toBe(true);
    expect(other).toBe(false);
    expect(ids(await dead.list())).toEqual(ids([kept!]));
    // Left by an earlier process with this pid, which stopped while holding it: taken over.
    await appendFile(file, `\n${settledLine(kept!)}\n`);
    await writeFile(`${file}.lock`, `${process.pid} 0123456789abcdef`);
    expect(await dead.compact(file)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it("leaves a file alone while a live process compacts it", async () => {
    const { dir, dead } = await deadLetters();
    await dead.park(parkedOf(A, 1)[0]!);
    await appendFile(dead.fileOf(A), `\n${settledLine(parkedOf(A, 1)[0]!)}\n`);
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      await writeFile(`${dead.fileOf(A)}.lock`, `${holder.pid} 0123456789abcdef`);
      expect(await dead.compact(dead.fileOf(A))).toBe(false);
      expect(await linesIn(dead.fileOf(A))).toHaveLength(2);
    } finally {
      holder.kill();
      await once(holder, "exit");
    }
    // Once it is gone, taken over: nothing is left unsettled, nor any file.
    expect(await dead.compact(dead.fileOf(A))).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it("passes over a line longer than the cap without holding it, and reports it", async () => {
    const { dead, damaged } = await deadLetters();
    const [first, second] = parkedOf(A, 2);
    await dead.park(first!);
    const huge = JSON.stringify({ ...second, detail: "x".repeat(MAX_LINE_BYTES + 10) });
    await appendFile(dead.fileOf(A), `\n${huge}\n`);
    await dead.park(parkedOf(A, 3)[2]!);
    expect(ids(await dead.list())).toEqual(ids([first!, parkedOf(A, 3)[2]!]));
    expect(damaged).toMatchObject([{ file: dead.fileOf(A), reason: `a line of ${Buffer.byteLength(huge)} bytes, longer than ${MAX_LINE_BYTES}` }]);
    // And one is never parked: refused, the others of its turn parked.
    const refused = { ...parkedOf(A, 4)[3]!, detail: "y".repeat(MAX_LINE_BYTES) };
    const results = await Promise.allSettled([dead.park(refused), dead.park(second!)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(ids(await dead.list())).toContain(second!.delivery.deliveryId);
  });

  it("streams lines: one over the cap is handed over as its head and length, the rest never held", async () => {
    const file = join(await tempDir(), "lines");
    // Longer than a read chunk (64 KiB), so that the long line spans chunks.
    await writeFile(file, `short\n${"z".repeat(200_000)}\n\nlast\nunfinished`);
    const handle = await open(file);
    try {
      const seen: unknown[] = [];
      for await (const line of linesOf(handle, { tail: false, cap: 1_000 })) seen.push(line);
      expect(seen).toEqual(["short", { head: "z".repeat(1_000), bytes: 200_000 }, "last"]);
      const withTail: unknown[] = [];
      for await (const line of linesOf(handle, { tail: true, cap: 1_000 })) withTail.push(line);
      expect(withTail.at(-1)).toBe("unfinished");
    } finally {
      await handle.close();
    }
  });

  it("parks even when the single file of earlier versions cannot be moved in, and says so", async () => {
    const root = await tempDir();
    const legacyFile = join(root, "dead-letters.jsonl");
    // Not a file it can read (a folder): every move of it fails.
    await mkdir(join(legacyFile, "x"), { recursive: true });
    const damaged: DamagedLine[] = [];
    const dead = new LocalDeadLetters(join(root, "dead-letters"), { legacyFile, onDamaged: (d) => damaged.push(d) });
    const [p] = parkedOf(A, 1);
    await dead.park(p!);
    expect(ids(await dead.list(A))).toEqual(ids([p!]));
    // Tried again, and told again, at each use.
    expect(damaged).toMatchObject([
      { file: legacyFile, reason: expect.stringMatching(/could not be moved in/) },
      { file: legacyFile, reason: expect.stringMatching(/could not be moved in/) },
    ]);
  });

  it("moves the single file every account once shared into each account's file: unsettled lines once, settled ones dropped, damaged ones kept aside", async () => {
    const root = await tempDir();
    const legacyFile = join(root, "dead-letters.jsonl");
    const [a, b] = [parkedOf(A, 3), parkedOf(B, 2, "eeee")];
    await writeFile(legacyFile, [...a, ...b, a[0]].map((p) => `${JSON.stringify(p)}\n`).join("") + `${settledLine(a[1]!)}\n{"cut`);
    const dir = join(root, "dead-letters");
    const dead = new LocalDeadLetters(dir, { legacyFile });
    expect(ids(await dead.list(A))).toEqual(ids([a[0]!, a[2]!]));
    expect(ids(await dead.list(B))).toEqual(ids(b));
    expect(await linesIn(dead.fileOf(A))).toHaveLength(2);
    expect(await linesIn(dead.fileOf(B))).toHaveLength(2);
    expect(await readdir(root)).toEqual(["dead-letters"]);
    expect(await linesIn(join(dir, "legacy.damaged"))).toEqual(['{"cut']);
    // Another instance (another process would too) finds it moved.
    expect(ids(await new LocalDeadLetters(dir, { legacyFile }).list())).toHaveLength(4);
  });
});
