import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConflictException } from "../../model/errors.ts";

/**
 * One `vigil serve` per data directory: the service loop may then take back what a stopped
 * one left held. The lock is a file holding the pid; one whose process is gone is taken over.
 */
export function lockDataDir(file: string): () => void {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
      const holder = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) throw new ConflictException(`Another vigil serve (pid ${holder}) runs on this data directory; stop it first`, file, "DataDirectory");
      rmSync(file, { force: true });
    }
  }
  throw new ConflictException("Could not take the data directory's lock", file, "DataDirectory");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}
