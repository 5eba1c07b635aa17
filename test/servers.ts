import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A temporary folder for a whole test file (servers started in beforeAll), removed after it. */
export async function tempDirOnce(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-server-"));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
