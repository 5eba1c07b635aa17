import { randomUUID } from "node:crypto";
import { constants, type Dir } from "node:fs";
import { mkdir, open, opendir, readlink, realpath, rename, rm, stat, writeFile, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { assertFolder, assertRange, LISTING_LIMITS, ListingTooLarge, type BlobBody, type BlobRange, type BlobStore, type ListingLimits } from "./blobs.ts";

/**
 * Blobs as files on local disk; writes go through a temporary file and a rename, so a reader
 * never sees half a file. Listing walks folder by folder, entry by entry, and stops at its
 * limits; it follows no symbolic link, not even one put in place of a folder while it walks.
 */
export class LocalBlobStore implements BlobStore {

  constructor(private readonly limits: ListingLimits = LISTING_LIMITS) {}

  async get(path: string): Promise<Uint8Array | undefined> {
    const handle = await this.openIfThere(path);
    if (!handle) return undefined;
    try {
      return await readWhole(handle);
    } finally {
      await handle.close();
    }
  }

  async getRange(path: string, offset: number, length: number): Promise<BlobRange | undefined> {
    assertRange(offset, length);
    const handle = await this.openIfThere(path);
    if (!handle) return undefined;
    try {
      const { size, ino, mtimeMs } = await handle.stat();
      const bytes = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      let at = 0;
      while (at < bytes.byteLength) {
        const { bytesRead } = await handle.read(bytes, at, bytes.byteLength - at, offset + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      // A put renames a new file into place: a new inode, whatever its size.
      return { bytes: bytes.subarray(0, at), size, version: `${ino}:${mtimeMs}` };
    } finally {
      await handle.close();
    }
  }

  async read(path: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    // Opened first, so a missing file answers undefined rather than failing mid-read.
    const handle = await this.openIfThere(path);
    // Node's own 64 KiB chunks: larger ones (1 MiB) left the process twice the memory, freed but not given back.
    return handle?.createReadStream();
  }

  async put(path: string, body: BlobBody): Promise<void> {
    const target = this.local(path);
    await mkdir(dirname(target), { recursive: true });
    // Named apart from every other writer (worker threads share the pid).
    const tmp = `${target}.${randomUUID()}.tmp`;
    if (typeof body === "string") await writeFile(tmp, body);
    else await writeParts(tmp, body instanceof Uint8Array ? [body] : body);
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
    const real = await realpath(root).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
    if (real === undefined) return;
    let entries = 0;
    const folders: { path: string; depth: number }[] = [{ path: "", depth: 0 }];
    for (let folder = folders.pop(); folder; folder = folders.pop()) {
      const dir = folder.path ? await openBelow(root, real, folder.path) : await opendir(root).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
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

  /** The file opened for reading, or undefined when there is none. */
  private openIfThere(path: string): Promise<FileHandle | undefined> {
    return open(this.local(path)).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
  }

  private local(path: string): string {
    return resolve(path.startsWith("file://") ? path.slice("file://".length) : path);
  }
}

/**
 * The folder `relative` below `root` (whose real path is `real`) opened for listing, or
 * undefined when it is gone or no longer a folder there: one swapped for a symbolic link
 * since its parent was listed (the link is not followed), or one reached through a folder
 * so swapped. The system names the folder it opened (/proc/self/fd on Linux), which must
 * be where the walk found it, and it is listed through that name; where the system cannot
 * name it, it is listed by its path.
 */
async function openBelow(root: string, real: string, relative: string): Promise<Dir | undefined> {
  const path = join(root, relative);
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch((e: unknown) => {
    const code = (e as { code?: string }).code;
    return code === "ENOENT" || code === "ELOOP" || code === "ENOTDIR" ? undefined : Promise.reject(e);
  });
  if (!handle) return undefined;
  try {
    const through = `/proc/self/fd/${handle.fd}`;
    const opened = await readlink(through).catch(() => undefined);
    if (opened === undefined) return await opendir(path);
    return opened === join(real, relative) ? await opendir(through) : undefined;
  } finally {
    await handle.close();
  }
}

/**
 * A file's bytes in one buffer of its own, read in as few calls as the system takes (readFile
 * reads in 512 KiB pieces); a file that grew while it was read is read again whole.
 */
async function readWhole(handle: FileHandle): Promise<Uint8Array> {
  const { size } = await handle.stat();
  const bytes = Buffer.allocUnsafeSlow(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await handle.read(bytes, at, size - at, at);
    if (bytesRead === 0) return bytes.subarray(0, at);
    at += bytesRead;
  }
  const grown = await handle.read(Buffer.alloc(1), 0, 1, size);
  return grown.bytesRead ? handle.readFile() : bytes;
}

/** Writes the parts one after another in as few calls as the system takes (writeFile would cut a large buffer into 512 KiB writes). */
async function writeParts(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const handle = await open(path, "w");
  try {
    let left = parts.filter((p) => p.byteLength > 0);
    while (left.length) {
      const { bytesWritten } = await handle.writev(left.slice(0, MAX_PARTS_PER_WRITE));
      if (bytesWritten === 0) throw new Error(`nothing could be written to ${path}`);
      let written = bytesWritten;
      let done = 0;
      while (done < left.length && written >= left[done]!.byteLength) written -= left[done++]!.byteLength;
      left = left.slice(done);
      if (written) left[0] = left[0]!.subarray(written);
    }
  } finally {
    await handle.close();
  }
}

/** Buffers one writev may take (the system's IOV_MAX). */
const MAX_PARTS_PER_WRITE = 1024;

export const isMissing = (e: unknown) => typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "ENOENT";
