import { spawn } from "node:child_process";
import { mkdir, realpath, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConfinedFiles } from "../../../shared/runtime/data-roots.ts";
import { LocalBlobStore } from "../../../shared/store/local-blobs.ts";
import { tempDir } from "../../builders.ts";

const text = async (chunks: AsyncIterable<Uint8Array> | undefined) => {
  if (!chunks) return undefined;
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts).toString("utf8");
};

/** A tenant's files streamed (how detection reads them) pass the same checks as a whole read. */
describe("ConfinedFiles.read", () => {
  async function setUp() {
    const dir = await tempDir();
    const root = join(dir, "tenant");
    const outside = join(dir, "secret.txt");
    await mkdir(join(root, "data"), { recursive: true });
    await writeFile(join(root, "data", "a.csv"), "x,y\n1,2\n");
    await writeFile(outside, "not yours");
    await symlink(outside, join(root, "data", "leak.csv"));
    await symlink(dir, join(root, "up"));
    return { files: new ConfinedFiles(new LocalBlobStore(), [root], join(dir, "vigil")), root, outside };
  }

  it("streams a file inside the tenant's roots, and answers undefined for one that is not there", async () => {
    const { files, root } = await setUp();
    expect(await text(await files.read(join(root, "data", "a.csv")))).toBe("x,y\n1,2\n");
    expect(await files.read(join(root, "data", "none.csv"))).toBeUndefined();
  });

  it("refuses a path outside the roots, and one that leads outside through a link, reading nothing", async () => {
    const { files, root, outside } = await setUp();
    await expect(files.read(outside)).rejects.toMatchObject({ code: "AccessDeniedException", message: expect.stringMatching(/outside the folders you may read/) });
    await expect(files.read(join(root, "data", "leak.csv"))).rejects.toMatchObject({ code: "AccessDeniedException", message: expect.stringMatching(/leads outside/) });
    await expect(files.read(join(root, "up", "secret.txt"))).rejects.toMatchObject({ code: "AccessDeniedException" });
    await expect(files.read(join(root, "data"))).rejects.toMatchObject({ code: "AccessDeniedException", message: expect.stringMatching(/not a regular file/) });
    await expect(files.read("s3://bucket/key.csv")).rejects.toMatchObject({ code: "AccessDeniedException" });
  });
});

/**
 * A tenant that swaps a folder of its own for a link to someone else's, over and over, while
 * Vigil reads through it: what is opened is checked, not only the path. (Before, a read and
 * a listing leaked the other folder within about a thousand tries.)
 */
describe("ConfinedFiles under a folder swapped for a link", () => {
  async function racing() {
    const dir = await realpath(await tempDir());
    const root = join(dir, "root");
    const outside = join(dir, "another-tenant");
    await mkdir(join(root, "real"), { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(join(root, "real", "a.csv"), "timestamp,v\nmine,1\n");
    await writeFile(join(outside, "a.csv"), "timestamp,v\nTHEIRS,1\n");
    await writeFile(join(outside, "theirs-only.csv"), "timestamp,v\nTHEIRS,1\n");
    await symlink(outside, join(root, "out-link"));
    // root/d is by turns a real folder (which passes the check) and a link to the other tenant's folder.
    const flipper = spawn(
      process.execPath,
      ["-e", `const fs = require("fs"), p = require("path"), r = ${JSON.stringify(root)}; for (;;) { for (const n of ["real", "out-link"]) { fs.renameSync(p.join(r, n), p.join(r, "d")); fs.renameSync(p.join(r, "d"), p.join(r, n)); } }`],
      { stdio: "ignore" },
    );
    onTestFinished(() => void flipper.kill("SIGKILL"));
    return { files: new ConfinedFiles(new LocalBlobStore(), [root], join(dir, "vigil")), root };
  }

  it("never reads the other folder's file", async () => {
    const { files, root } = await racing();
    let read = 0;
    for (let i = 0; i < 4000; i++) {
      const bytes = await files.get(join(root, "d", "a.csv")).catch(() => undefined);
      if (bytes) read++;
      expect(bytes ? Buffer.from(bytes).toString("utf8") : "").not.toContain("THEIRS");
    }
    expect(read).toBeGreaterThan(0);
  }, 60_000);

  it("never lists the other folder's files", async () => {
    const { files, root } = await racing();
    for (let i = 0; i < 2000; i++) {
      const listed = await files.list(join(root, "d")).catch(() => []);
      expect(listed.filter((f) => f.includes("theirs-only"))).toEqual([]);
    }
  }, 60_000);

  it("never lists the other folder's files through a folder below the one listed", async () => {
    const { files, root } = await racing();
    let mine = 0;
    for (let i = 0; i < 2000; i++) {
      const listed = await files.list(root).catch((): string[] => []);
      if (listed.includes(join(root, "d", "a.csv"))) mine++;
      expect(listed.filter((f) => f.includes("theirs-only"))).toEqual([]);
    }
    expect(mine).toBeGreaterThan(0);
  }, 60_000);
});
