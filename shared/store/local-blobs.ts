import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { assertFolder, type BlobStore } from "./blobs.ts";

/** Blobs as files on local disk; writes go through a temporary file and a rename, so a reader never sees half a file. */
export class LocalBlobStore implements BlobStore {
  private counter = 0;

  async get(path: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.local(path));
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async put(path: string, body: Uint8Array | string): Promise<void> {
    const target = this.local(path);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${this.counter++}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, target);
  }

  async list(prefix: string): Promise<string[]> {
    const root = this.local(prefix);
    const info = await stat(root).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
    if (!info) return [];
    if (info.isFile()) return [prefix];
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    const base = prefix.replace(/\/+$/, "");
    return entries
      .filter((e) => e.isFile() && !e.name.endsWith(".tmp"))
      .map((e) => join(base, relativeTo(root, join(e.parentPath, e.name))))
      .sort();
  }

  async deleteFolder(folder: string): Promise<number> {
    assertFolder(folder);
    const count = (await this.list(folder)).length;
    await rm(this.local(folder), { recursive: true, force: true });
    return count;
  }

  private local(path: string): string {
    return resolve(path.startsWith("file://") ? path.slice("file://".length) : path);
  }
}

const relativeTo = (root: string, full: string) => full.slice(resolve(root).length + 1);

export const isMissing = (e: unknown) => typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "ENOENT";
