import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { linkKeyId } from "../alerts/links.ts";

/**
 * The local mode's key for signing the links in alert messages: made on first use, kept in
 * the data directory's state (never readable through the API: data roots exclude it), and
 * shared by every process on that directory. `vigil links rotate` replaces it; each process
 * reads it again when the file changes, so links signed with the old key stop working at once.
 */
export const linkKeyFile = (dataDir: string) => join(dataDir, "state", "link-secret");

const newKey = () => randomBytes(32).toString("hex");

/** The current key, made when there is none, read again whenever the file changes. */
export function localLinkKey(dataDir: string): () => string {
  const file = linkKeyFile(dataDir);
  let held: { stamp: string; key: string } | undefined;
  return () => {
    const stamp = stampOf(file) ?? (make(file), stampOf(file)!);
    if (held?.stamp !== stamp) held = { stamp, key: readFileSync(file, "utf8").trim() };
    return held.key;
  };
}

/** Replaces the key (atomically: a reader sees the old key or the new one); answers the new key's id. */
export function rotateLocalLinkKey(dataDir: string): string {
  const file = linkKeyFile(dataDir);
  mkdirSync(dirname(file), { recursive: true });
  const key = newKey();
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, key, { mode: 0o600 });
  renameSync(tmp, file);
  return linkKeyId(key);
}

function make(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, newKey(), { flag: "wx", mode: 0o600 });
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
  }
}

/** What tells one version of the file from the next: a rename makes a new inode. */
function stampOf(file: string): string | undefined {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
}
