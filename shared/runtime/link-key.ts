import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { linkKeyId } from "../alerts/links.ts";
import { placedWhole, writtenBeside } from "./placed-whole.ts";

/**
 * The local mode's key for signing the links in alert messages: made on first use, kept in
 * the data directory's state (never readable through the API: data roots exclude it), and
 * shared by every process on that directory. `vigil links rotate` replaces it; each process
 * reads it again when the file changes, so links signed with the old key stop working at once.
 */
export const linkKeyFile = (dataDir: string) => join(dataDir, "state", "link-secret");

/**
 * The fewest characters a key the file holds may have, as the settings' linkKey (config.ts).
 * A shorter one is what a process stopped between the file's creation and its write left (an
 * empty file, or part of a key): links signed with it could be signed by anyone.
 */
const MIN_KEY_LENGTH = 32;

const newKey = () => randomBytes(32).toString("hex");

/** The current key, made when there is none (or the file holds too short a one), read again whenever the file changes. */
export function localLinkKey(dataDir: string): () => string {
  const file = linkKeyFile(dataDir);
  let held: { stamp: string; key: string } | undefined;
  return () => {
    for (;;) {
      const stamp = stampOf(file) ?? (make(file), stampOf(file)!);
      if (held?.stamp === stamp) return held.key;
      const key = readFileSync(file, "utf8").trim();
      if (key.length >= MIN_KEY_LENGTH) {
        held = { stamp, key };
        return key;
      }
      // Replaced whole, then read again: another process may have replaced it first.
      replace(file);
    }
  };
}

/** Replaces the key (atomically: a reader sees the old key or the new one); answers the new key's id. */
export function rotateLocalLinkKey(dataDir: string): string {
  return linkKeyId(replace(linkKeyFile(dataDir)));
}

/** A new key put in place of the file's, whole; answers it. */
function replace(file: string): string {
  const { tmp, key } = written(file);
  renameSync(tmp, file);
  return key;
}

/** A new key made unless the file is there: linked into place whole, so that no reader finds it empty or cut short. */
function make(file: string): void {
  const { tmp } = written(file);
  try {
    placedWhole(tmp, file);
  } finally {
    unlinkSync(tmp);
  }
}

/** A new key written, private, beside the file (writtenBeside). */
function written(file: string): { tmp: string; key: string } {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = newKey();
  return { tmp: writtenBeside(file, key), key };
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
