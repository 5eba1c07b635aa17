import { constants } from "node:fs";
import { open, readlink, realpath, stat, type FileHandle } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve, sep } from "node:path";
import * as z from "../model/zod.ts";
import type { DataFiles } from "../app/index.ts";
import { AccessDeniedException, ValidationException } from "../model/errors.ts";
import { parseLocation } from "../model/location.ts";
import { parseOrThrow } from "../model/validate.ts";
import type { BlobStore } from "../store/blobs.ts";

/**
 * Where each tenant of `vigil serve` may read metric files: the folders ("data roots") the
 * operator grants it. One small schema, so a settings file can carry it as it is:
 * `{ "default": ["/srv/metrics"], "team-a": ["/srv/team-a"] }`. From the environment,
 * VIGIL_DATA_ROOTS="default=/srv/metrics:/srv/more;team-a=/srv/team-a" (tenants separated by
 * `;`, folders by the path delimiter, as in PATH).
 */
export const DataRootsSettings = z.record(
  z.string().check(z.regex(/^[^:,;=\s]{1,64}$/, "is not a tenant name")),
  z.array(z.string().check(z.minLength(1), z.maxLength(1024))).check(z.maxLength(32, "may grant 32 folders at most")),
);
export type DataRootsSettings = z.infer<typeof DataRootsSettings>;

/** The folder of a data directory where data may be put, and the only part of it a tenant may be granted. */
export const DATA_FOLDER = "files";

/** VIGIL_DATA_ROOTS as settings. */
export function dataRootsFromText(text: string): DataRootsSettings {
  const settings: Record<string, string[]> = {};
  for (const entry of text.split(";").map((e) => e.trim()).filter(Boolean)) {
    const at = entry.indexOf("=");
    if (at <= 0) throw new ValidationException(`VIGIL_DATA_ROOTS entry '${entry.slice(0, 64)}' is not tenant=folder[${delimiter}folder…]`, { fields: [{ Name: "VIGIL_DATA_ROOTS", Message: "holds an entry without tenant=" }] });
    const tenant = entry.slice(0, at).trim();
    if (settings[tenant]) throw new ValidationException(`VIGIL_DATA_ROOTS names tenant ${tenant} twice`, { fields: [{ Name: "VIGIL_DATA_ROOTS", Message: `names ${tenant} twice` }] });
    settings[tenant] = entry.slice(at + 1).split(delimiter).map((p) => p.trim()).filter(Boolean);
  }
  return parseOrThrow(DataRootsSettings, settings, "VIGIL_DATA_ROOTS");
}

const inside = (folder: string, path: string) => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/** The real path of `path` (symbolic links and `..` resolved by the file system), or of its nearest existing ancestor with the rest joined on. */
async function realOf(path: string): Promise<{ real: string; exists: boolean }> {
  const parts = path.split(sep);
  for (let n = parts.length; n > 0; n--) {
    const head = parts.slice(0, n).join(sep) || sep;
    try {
      const real = await realpath(head);
      // What follows a missing folder cannot be reached, whatever it says.
      return { real: n === parts.length ? real : join(real, ...parts.slice(n)), exists: n === parts.length };
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
    }
  }
  return { real: resolve(path), exists: false };
}

/** The path as the file system reads it: absolute, `..` left for the file system to resolve (after links, as it does). */
const absolute = (path: string) => (isAbsolute(path) ? path : `${process.cwd()}${sep}${path}`);

/**
 * Checks the operator's grants against Vigil's own data directory: a tenant may be granted
 * its `files/` folder or folders outside it, never the directory itself, its state (records,
 * the link key), results, events, outbox or dead letters. Answers each tenant's folders, absolute.
 */
export async function checkedRoots(settings: DataRootsSettings, dataDir: string): Promise<Map<string, string[]>> {
  const own = await realOf(resolve(dataDir));
  const data = join(own.real, DATA_FOLDER);
  const out = new Map<string, string[]>();
  for (const [tenant, roots] of Object.entries(settings)) {
    const checked: string[] = [];
    for (const root of roots) {
      const path = resolve(root);
      const { real } = await realOf(path);
      for (const candidate of new Set([path, real])) {
        if (inside(candidate, own.real)) throw new ValidationException(`The data root ${root} of tenant ${tenant} holds Vigil's own data directory (${dataDir}): grant its ${DATA_FOLDER}/ folder or another`, { fields: [{ Name: "dataRoots", Message: `${tenant}: holds Vigil's data directory` }] });
        if (inside(own.real, candidate) && !inside(data, candidate)) throw new ValidationException(`The data root ${root} of tenant ${tenant} lies in Vigil's own data directory: only its ${DATA_FOLDER}/ folder may be granted`, { fields: [{ Name: "dataRoots", Message: `${tenant}: lies in Vigil's data directory` }] });
      }
      checked.push(path);
    }
    out.set(tenant, checked);
  }
  return out;
}

/**
 * A tenant's metric files on local disk, confined to its data roots: a path is resolved as
 * the file system resolves it (symbolic links, `..`) and read only when it lies inside one
 * of them and outside Vigil's own data (its data directory but `files/`). Anything else is
 * refused with an AccessDeniedException that says what is wrong with the path, never what
 * it holds or whether it exists. `s3://` addresses are not read here.
 */
export class ConfinedFiles implements DataFiles {
  /** The roots as written and as the file system resolves them, and Vigil's own directory's real path: found once per reader (one request, one metric set's run). */
  private resolved: Promise<{ roots: (readonly [string, string])[]; own: string }> | undefined;

  constructor(
    private readonly files: Pick<BlobStore, "list">,
    private readonly roots: readonly string[],
    private readonly dataDir: string,
  ) {}

  async check(uri: string): Promise<void> {
    await this.confine(uri);
  }

  async get(uri: string): Promise<Uint8Array | undefined> {
    const file = await this.open(uri);
    if (!file) return undefined;
    try {
      return await file.readFile();
    } finally {
      await file.close();
    }
  }

  /** The file as a stream, through the same checks as `get`; the stream closes the file when read to its end (or destroyed). */
  async read(uri: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    return (await this.open(uri))?.createReadStream();
  }

  /** The confined path opened as a regular file, or undefined when there is none. */
  private async open(uri: string): Promise<FileHandle | undefined> {
    const { real, exists } = await this.confine(uri);
    if (!exists) return undefined;
    const file = await openUnlinked(uri, real);
    if (!file) return undefined;
    try {
      const info = await file.stat();
      if (!info.isFile()) throw denied(uri, "is not a regular file");
      await this.confineOpened(uri, file, real, info);
    } catch (e) {
      await file.close();
      throw e;
    }
    return file;
  }

  /**
   * Checks what was opened, not only the path: O_NOFOLLOW guards the path's last part only, so
   * a folder higher up swapped for a link between the check and the open leads elsewhere.
   * The system names the file it opened (/proc/self/fd on Linux); where it cannot, the path
   * is resolved again and must lead to the very file opened. Answers the path to read it
   * through: the system's name of the open file where it has one, else the path checked.
   */
  private async confineOpened(uri: string, handle: FileHandle, checked: string, info: { dev: number; ino: number }): Promise<string> {
    const through = descriptorPath(handle.fd);
    const opened = await readlink(through).catch(() => undefined);
    if (opened !== undefined) {
      if (opened !== checked) await this.confineReal(uri, opened, "changed while it was read");
      return through;
    }
    const again = await realOf(checked);
    const now = again.exists ? await stat(again.real).catch(() => undefined) : undefined;
    if (!now || now.dev !== info.dev || now.ino !== info.ino) throw denied(uri, "changed while it was read");
    await this.confineReal(uri, again.real, "changed while it was read");
    return checked;
  }

  /**
   * Lists under the real folder, so every file listed lies inside the root that folder is in
   * (listing follows no link). The folder is opened first and listed through what was opened,
   * so a folder on the path swapped for a link after the check lists nothing outside.
   */
  async list(prefix: string): Promise<string[]> {
    const { real, exists } = await this.confine(prefix);
    if (!exists) return [];
    const folder = await openUnlinked(prefix, real);
    if (!folder) return [];
    try {
      const info = await folder.stat();
      if (!info.isDirectory()) return info.isFile() ? [real] : [];
      // Listed through the open folder where the system offers it, then named as the checked path.
      const opened = await this.confineOpened(prefix, folder, real, info);
      return (await this.files.list(opened)).map((f) => (opened === real ? f : real + f.slice(opened.length)));
    } finally {
      await folder.close();
    }
  }

  private async confine(uri: string): Promise<{ real: string; exists: boolean }> {
    const location = parseLocation(uri);
    if (location.kind === "s3") throw denied(uri, "is an S3 address: vigil serve reads local files, inside the data roots granted to you");
    const path = absolute(location.path);
    this.resolved ??= (async () => ({ roots: await Promise.all(this.roots.map(async (r) => [resolve(r), (await realOf(resolve(r))).real] as const)), own: (await realOf(resolve(this.dataDir))).real }))();
    const { roots, own } = await this.resolved;
    // Checked as written first, so a path outside is refused before the file system is asked about it.
    if (!roots.some((pair) => pair.some((r) => inside(r, resolve(path))))) throw denied(uri, this.roots.length ? "is outside the folders you may read (your data roots)" : "cannot be read: no data roots are granted to you");
    const target = await realOf(path);
    await this.confineReal(uri, target.real, "leads outside the folders you may read (through a symbolic link or ..)");
    return target;
  }

  /** Refuses a real path outside the roots' real paths, or in Vigil's own data but `files/`. */
  private async confineReal(uri: string, real: string, outside: string): Promise<void> {
    const { roots, own } = await this.resolved!;
    if (!roots.some(([, r]) => inside(r, real))) throw denied(uri, outside);
    if (inside(own, real) && !inside(join(own, DATA_FOLDER), real)) throw denied(uri, "is in Vigil's own data directory");
  }
}

/**
 * The checked path opened, or undefined when it is gone; a link put in its place since is not
 * followed. Opened without waiting: a named pipe a tenant put in its root would otherwise hold
 * the opening thread (one of the process's few for files) until a writer came; what is not a
 * regular file or a folder is then refused (its stat), and reading a regular file never waits.
 */
async function openUnlinked(uri: string, real: string): Promise<FileHandle | undefined> {
  return open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((e: unknown) => {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw denied(uri, "leads through a symbolic link that changed while it was read");
    throw e;
  });
}

/** Where the system shows an open file descriptor's target. */
const descriptorPath = (fd: number) => `/proc/self/fd/${fd}`;

const denied = (uri: string, problem: string) => new AccessDeniedException(`Access denied to ${uri}: it ${problem}`);
