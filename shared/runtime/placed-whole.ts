import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, writeFileSync } from "node:fs";

/** Errors of a filesystem that has no hard links (vfat, exFAT, some CIFS and FUSE mounts). */
const NO_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);

/**
 * Puts the file `from` (written whole) at `to` unless `to` is there: true when put, false when
 * it was there. A hard link puts it whole at once, so no reader finds it empty or half
 * written; where the filesystem has no hard links, `to` is created exclusively and written
 * (a reader may then meet it empty for that moment: the callers read such a file as absent
 * or as too short, and try again).
 */
export function placedWhole(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EEXIST") return false;
    if (!code || !NO_LINKS.has(code)) throw e;
  }
  try {
    writeFileSync(to, readFileSync(from), { flag: "wx", mode: 0o600 });
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === "EEXIST") return false;
    throw e;
  }
}

/** `text` written, private, beside `file` under a name of its own (worker threads share the pid): what placedWhole, or a rename, then puts in place. */
export function writtenBeside(file: string, text: string): string {
  const path = `${file}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(path, text, { flag: "wx", mode: 0o600 });
  return path;
}
