import { mkdirSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { ConflictException } from "../../model/errors.ts";
import { placedWhole, writtenBeside } from "../placed-whole.ts";

/** A takeover older than this was left by a process that stopped in it (one takes microseconds). */
const ABANDONED_TAKEOVER_MS = 10_000;

/**
 * One `vigil serve` per data directory: the service loop may then take back what a stopped
 * one left held. The lock is a file holding the pid, made by linking a file written whole (so
 * it is never read empty, half written); one whose process is gone is taken over, by one
 * starting process at a time (`<lock>.takeover`, made the same way): it removes the lock only
 * while it is still the one found stale, so a lock another took meanwhile is never removed.
 */
export function lockDataDir(file: string): () => void {
  mkdirSync(dirname(file), { recursive: true });
  const mine = writtenBeside(file, String(process.pid));
  // Tried until a takeover left by a process that stopped in it is past its age, and a little more.
  const until = Date.now() + ABANDONED_TAKEOVER_MS + 1_000;
  try {
    for (;;) {
      if (placedWhole(mine, file)) return () => rmSync(file, { force: true });
      const holder = contentOf(file);
      // Gone meanwhile (released, or taken over and not yet taken again): placed again.
      if (holder === undefined) continue;
      // Empty: being written, where the filesystem has no hard links (placedWhole); still empty once the wait is over, left by a start that stopped in it, and taken over.
      if (holder === "" && Date.now() < until) {
        pause(TAKEOVER_WAIT_MS);
        continue;
      }
      const pid = Number(holder);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new ConflictException(`Another vigil serve (pid ${pid}) runs on this data directory; stop it first`, file, "DataDirectory");
      if (takeOver(file, mine, holder)) continue;
      if (Date.now() >= until) break;
      pause(TAKEOVER_WAIT_MS);
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new ConflictException("Could not take the data directory's lock", file, "DataDirectory");
}

/** How long a start waits for another's takeover before it looks again. */
const TAKEOVER_WAIT_MS = 20;

/** Waits, holding the thread: a start has nothing else to do until it holds the lock. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Removes the lock `file` while it still holds `stale`, one taker at a time; nothing when
 * another takes it over now. False when another's takeover is under way (or was left by a
 * process that stopped in it, removed once past its age): the start waits and looks again.
 */
function takeOver(file: string, mine: string, stale: string): boolean {
  const takeover = `${file}.takeover`;
  if (!placedWhole(mine, takeover)) {
    const since = statSync(takeover, { throwIfNoEntry: false })?.mtimeMs;
    if (since !== undefined && Date.now() - since > ABANDONED_TAKEOVER_MS) rmSync(takeover, { force: true });
    return false;
  }
  try {
    if (contentOf(file) === stale) unlinkSync(file);
  } finally {
    rmSync(takeover, { force: true });
  }
  return true;
}

/** What the file holds, trimmed; undefined when it is gone. */
function contentOf(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    throw e;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}
