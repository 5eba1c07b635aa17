import { mkdir, open, opendir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { assertFolder, LISTING_LIMITS, ListingTooLarge, type BlobStore, type ListingLimits } from "./blobs.ts";

/**
 * Blobs as files on local disk; writes go through a temporary file and a rename, so a reader
 * never sees half a file. Listing walks folder by folder, entry by entry, and stops at its
 * limits; it follows no symbolic link.
 */
export class LocalBlobStore implements BlobStore {
  private counter = 0;

  constructor(private readonly limits: ListingLimits = LISTING_LIMITS) {}

  async get(path: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.local(path));
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async read(path: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    // Opened first, so a missing file answers undefined rather than failing mid-read.
    const handle = await open(this.local(path)).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
    // Node's own 64 KiB chunks: larger ones (1 MiB) left the process twice the memory, freed but not given back.
    return handle?.createReadStream();
  }

  async put(path: string, body: Uint8Array | string): Promise<void> {
    const target = this.local(path);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${this.counter++}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, target);
  }

  async list(prefix: string): Promise<string[]> {
    const base = prefix.replace(/\/+$/, "");
    const out: string[] = [];
    await this.walk(prefix, this.limits, (relative) => out.push(relative === "" ? prefix : join(base, relative)));
    return out.sort();
  }

  async deleteFolder(folder: string): Promise<number> {
    assertFolder(folder);
    // Counted without the listing's limits: what is deleted is Vigil's own results, however many.
    let count = 0;
    await this.walk(folder, { maxEntries: Infinity, maxDepth: Infinity }, () => count++);
    await rm(this.local(folder), { recursive: true, force: true });
    return count;
  }

  /** Calls `onFile` with the path of each regular file under `prefix`, relative to it ("" when `prefix` is a file). */
  private async walk(prefix: string, limits: ListingLimits, onFile: (relative: string) => void): Promise<void> {
    const root = this.local(prefix);
    const info = await stat(root).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
    if (!info) return;
    if (info.isFile()) return onFile("");
    let entries = 0;
    const folders: { path: string; depth: number }[] = [{ path: "", depth: 0 }];
    for (let folder = folders.pop(); folder; folder = folders.pop()) {
      const dir = await opendir(join(root, folder.path)).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
      if (!dir) continue;
      for await (const entry of dir) {
        if (++entries > limits.maxEntries) throw new ListingTooLarge(prefix, `it holds more than ${limits.maxEntries} files and folders`);
        const path = folder.path ? join(folder.path, entry.name) : entry.name;
        if (entry.isFile() && !entry.name.endsWith(".tmp")) onFile(path);
        else if (entry.isDirectory()) {
          if (folder.depth + 1 > limits.maxDepth) throw new ListingTooLarge(prefix, `its folders nest more than ${limits.maxDepth} deep`);
          folders.push({ path, depth: folder.depth + 1 });
        }
      }
    }
  }

  private local(path: string): string {
    return resolve(path.startsWith("file://") ? path.slice("file://".length) : path);
  }
}

export const isMissing = (e: unknown) => typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "ENOENT";
