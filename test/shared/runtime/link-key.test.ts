import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { signedQuery } from "../../../shared/alerts/links.ts";
import { linkKeyFile, localLinkKey } from "../../../shared/runtime/link-key.ts";
import { localServices } from "../../../shared/runtime/local.ts";
import { T0, tempDir } from "../../builders.ts";

/**
 * The local key that signs the links in alert messages. Its file is made by one write after
 * its creation: a process that stopped in between (killed, a full disk) left it empty or cut
 * short, and every link was then signed with that key, an empty one anyone can sign with.
 */
describe("the local link key", () => {
  async function leftBehind(content: string) {
    const dir = await tempDir();
    await mkdir(dirname(linkKeyFile(dir)), { recursive: true });
    await writeFile(linkKeyFile(dir), content, { mode: 0o600 });
    return dir;
  }

  it("is made whole and private when there is none", async () => {
    const dir = await tempDir();
    const key = localLinkKey(dir)();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect((await readFile(linkKeyFile(dir), "utf8")).trim()).toBe(key);
    expect((await stat(linkKeyFile(dir))).mode & 0o077).toBe(0);
  });

  it("replaces a key file left empty or cut short, so that no link is signed with a key anyone can guess", async () => {
    for (const content of ["", "\n", "0123456789abcdef"]) {
      const dir = await leftBehind(content);
      const key = localLinkKey(dir)();
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect((await readFile(linkKeyFile(dir), "utf8")).trim()).toBe(key);
      expect((await stat(linkKeyFile(dir))).mode & 0o077).toBe(0);
    }
  });

  it("signs no link with the empty key through the local services", async () => {
    const dir = await leftBehind("");
    const secret = localServices(dir).alertSettings.linkSecret!;
    const path = "/anomaly-groups/g";
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(signedQuery(secret, path, "000000000000", T0)).not.toBe(signedQuery("", path, "000000000000", T0));
  });

  it("keeps a whole key the file holds, and reads it again once replaced", async () => {
    const dir = await leftBehind("k".repeat(40));
    const key = localLinkKey(dir);
    expect(key()).toBe("k".repeat(40));
    await writeFile(linkKeyFile(dir), "n".repeat(48));
    expect(key()).toBe("n".repeat(48));
  });
});
