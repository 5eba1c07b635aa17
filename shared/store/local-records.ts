import { link, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isMissing } from "./local-blobs.ts";
import { RecordExists, type RecordStore, type Table } from "./records.ts";

/**
 * Records as JSON files under `<dir>/<table>/`. Writes are atomic (temporary file, then
 * rename); `create` links the temporary file into place, which fails when the name exists.
 */
export class LocalRecordStore implements RecordStore {
  private counter = 0;

  constructor(private readonly dir: string) {}

  async get<T>(table: Table, id: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.file(table, id), "utf8")) as T;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async create<T>(table: Table, id: string, value: T): Promise<void> {
    const tmp = await this.writeTemp(table, value);
    try {
      await link(tmp, this.file(table, id));
    } catch (e) {
      if ((e as { code?: string }).code === "EEXIST") throw new RecordExists(table, id);
      throw e;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async put<T>(table: Table, id: string, value: T): Promise<void> {
    await rename(await this.writeTemp(table, value), this.file(table, id));
  }

  async list<T>(table: Table, prefix = ""): Promise<T[]> {
    const out: T[] = [];
    for (const id of await this.ids(table, prefix)) {
      const v = await this.get<T>(table, id);
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  async delete(table: Table, id: string): Promise<void> {
    await rm(this.file(table, id), { force: true });
  }

  async deletePrefix(table: Table, prefix: string): Promise<number> {
    const ids = await this.ids(table, prefix);
    for (const id of ids) await this.delete(table, id);
    return ids.length;
  }

  async claim(id: string, until: number, now: number): Promise<boolean> {
    try {
      await this.create("leases", id, { until });
      return true;
    } catch (e) {
      if (!(e instanceof RecordExists)) throw e;
    }
    const held = await this.get<{ until: number }>("leases", id);
    if (held && held.until >= now) return false;
    // An expired lease: take it over. Local mode has one writer, so no race is left here.
    await this.put("leases", id, { until });
    return true;
  }

  private async ids(table: Table, prefix: string): Promise<string[]> {
    const names = await readdir(join(this.dir, table)).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)));
    return names
      .filter((n) => n.endsWith(".json"))
      .map((n) => decodeURIComponent(n.slice(0, -".json".length)))
      .filter((id) => id.startsWith(prefix))
      .sort();
  }

  private file(table: Table, id: string): string {
    return join(this.dir, table, `${encodeURIComponent(id)}.json`);
  }

  private async writeTemp(table: Table, value: unknown): Promise<string> {
    await mkdir(join(this.dir, table), { recursive: true });
    const tmp = join(this.dir, table, `.${process.pid}.${this.counter++}.tmp`);
    await writeFile(tmp, JSON.stringify(value, null, 1));
    return tmp;
  }
}
