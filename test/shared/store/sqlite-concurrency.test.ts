import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { bundledScript } from "../../child-scripts.ts";
import { describe, expect, it } from "vitest";
import { localServices } from "../../../shared/runtime/local.ts";
import { tempDir } from "../../builders.ts";
import { EXPIRED_UNTIL, expectedRecord, LEASES, T_START } from "./concurrency-plan.ts";

const PROCESSES = 2;
const WRITERS_PER_PROCESS = 25;
const RECORDS_PER_WRITER = 40;

/** A writer process (concurrent-writer.ts, bundled) that has opened the database and waits for "go". */
async function writerProcess(script: string, dataDir: string, firstWriter: number) {
  const child = spawn(process.execPath, [script, dataDir, String(firstWriter), String(WRITERS_PER_PROCESS), String(RECORDS_PER_WRITER)], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ready = await lines.next();
  if (ready.value !== "ready") throw new Error(`writer ${firstWriter} did not start: ${stderr}`);
  return {
    go: () => child.stdin.end("go\n"),
    /** The leases its writers won, once it has exited. */
    done: async (): Promise<string[]> => {
      const result = await lines.next();
      const [code] = (await once(child, "exit")) as [number];
      if (code !== 0) throw new Error(`writer ${firstWriter} exited with ${code}: ${stderr}`);
      return JSON.parse(String(result.value)) as string[];
    },
  };
}

describe("local records under concurrency", () => {
  it("50 writers in two processes over two tenants: every record whole, its own, the last write kept; each lease won once", async () => {
    const dir = await tempDir();
    const script = join(dir, "writer.mjs");
    await bundledScript(join(import.meta.dirname, "concurrent-writer.ts"), script);
    const dataDir = join(dir, "data");
    // Both processes open the new database at once.
    const writers = await Promise.all(Array.from({ length: PROCESSES }, (_, p) => writerProcess(script, dataDir, p * WRITERS_PER_PROCESS)));
    const records = localServices(dataDir, { clock: () => T_START }).records;
    for (const lease of LEASES.filter((l) => l.includes("expired"))) expect(await records.claim(lease, EXPIRED_UNTIL, T_START)).toBe(true);
    for (const w of writers) w.go();
    const won = (await Promise.all(writers.map((w) => w.done()))).flat();

    const expected = Array.from({ length: PROCESSES * WRITERS_PER_PROCESS }, (_, w) => Array.from({ length: RECORDS_PER_WRITER }, (_, i) => expectedRecord(w, i))).flat();
    const stored = await records.list<{ tenant: string }>("detectors");
    expect(stored).toHaveLength(expected.length);
    const wrong = [];
    for (const { id, value } of expected) {
      const got = await records.get("detectors", id);
      if (JSON.stringify(got) !== JSON.stringify(value)) wrong.push(id);
    }
    expect(wrong).toEqual([]);
    for (const tenant of ["team-a", "team-b"]) {
      const mine = await records.list<{ tenant: string }>("detectors", `${tenant}/`);
      expect(mine).toHaveLength(expected.length / 2);
      expect(mine.every((r) => r.tenant === tenant)).toBe(true);
    }
    expect([...won].sort()).toEqual([...LEASES].sort());
  }, 120_000);
});
