import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, onTestFinished } from "vitest";

/** Folders made outside a test (in a `beforeAll`), removed once the test file is done. */
const fileDirs: string[] = [];

// Imported while a test file is collected, so this hook belongs to the file itself and runs after every suite's own.
// A script bundled from the test helpers (a writer process) runs with no test file, and no hook to register.
try {
  afterAll(() => Promise.all(fileDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true }))));
} catch {}
// A worker that exits before its file's hooks run still removes them (one killed by a signal cannot).
process.once("exit", () => fileDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/**
 * A fresh temporary folder, removed when the test that made it ends, or, made in a
 * `beforeAll`, when its test file ends. (A hook registered from inside a running hook or
 * test is never run, so `afterEach` cannot do this.)
 */
export async function tempDir(prefix = "vigil-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
  } catch {
    fileDirs.push(dir);
  }
  return dir;
}
