import { linkSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { localLinkKey, linkKeyFile } from "../../../shared/runtime/link-key.ts";
import { placedWhole } from "../../../shared/runtime/placed-whole.ts";
import { lockDataDir } from "../../../shared/runtime/service/lock.ts";
import { tempDir } from "../../builders.ts";

// linkSync as the system gives it, unless a case makes it answer as a filesystem without hard links does.
vi.mock("node:fs", async (original) => {
  const fs = await original<typeof import("node:fs")>();
  return { ...fs, linkSync: vi.fn(fs.linkSync) };
});
const noHardLinks = () =>
  vi.mocked(linkSync).mockImplementation(() => {
    throw Object.assign(new Error("operation not permitted, link"), { code: "EPERM" });
  });

describe("a file placed whole", () => {
  afterEach(() => vi.mocked(linkSync).mockRestore());

  /** Two files placed at one place, in turn: the first is put, the second is not. */
  async function placedTwice(): Promise<string> {
    const dir = await tempDir();
    writeFileSync(join(dir, "a"), "first");
    writeFileSync(join(dir, "b"), "second");
    expect(placedWhole(join(dir, "a"), join(dir, "to"))).toBe(true);
    expect(placedWhole(join(dir, "b"), join(dir, "to"))).toBe(false);
    expect(readFileSync(join(dir, "to"), "utf8")).toBe("first");
    return dir;
  }

  it("is put where none is, and not over one that is there", async () => {
    await placedTwice();
  });

  it("is put the same way on a filesystem without hard links (vfat, exFAT, some network mounts): the data directory's lock and link key work there", async () => {
    noHardLinks();
    const dir = await placedTwice();

    const lock = join(dir, "state", "serve.lock");
    const release = lockDataDir(lock);
    expect(readFileSync(lock, "utf8")).toBe(String(process.pid));
    release();
    const key = localLinkKey(dir)();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(linkKeyFile(dir), "utf8")).toBe(key);
    expect(vi.mocked(linkSync)).toHaveBeenCalled();
  });
});
