import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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
