import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { DeadLetters, ParkedDelivery } from "../alerts/delivery.ts";
import { isMissing } from "./local-blobs.ts";

/** The local mode's dead-letter queue: one JSON line per parked delivery in one file. */
export class LocalDeadLetters implements DeadLetters {
  constructor(private readonly file: string) {}

  async park(parked: ParkedDelivery): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(parked)}\n`);
  }

  async list(): Promise<ParkedDelivery[]> {
    try {
      return (await readFile(this.file, "utf8"))
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as ParkedDelivery);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }

  async drain(retry: (parked: ParkedDelivery) => Promise<boolean>): Promise<{ retried: number; remaining: number }> {
    const all = await this.list();
    const remaining: ParkedDelivery[] = [];
    for (const parked of all) if (!(await retry(parked))) remaining.push(parked);
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, remaining.map((p) => `${JSON.stringify(p)}\n`).join(""));
    await rename(tmp, this.file);
    return { retried: all.length - remaining.length, remaining: remaining.length };
  }
}
