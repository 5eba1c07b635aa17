import { existsSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import { intervalFolder } from "../../detect/read-files.ts";
import { intervalClock } from "../../model/interval-time.ts";
import { intervalMs } from "../../model/frequency.ts";
import type { MetricSet } from "../../model/metric-set.ts";
import { parseLocation } from "../../model/location.ts";

/** Folders watched at most, whatever the number of metric sets: each costs an inotify watch per level. */
export const MAX_WATCHED_FOLDERS = 256;
/** Intervals around now whose folders are watched: the two before the open one (late files), the open one and the next. */
const AROUND = [-2, -1, 0, 1];

/**
 * Watches the folders where the next files of local metric sets will land (S3 ObjectCreated's
 * part on AWS) and tells of each new file. Bounded: only the folders of the intervals around
 * now, and the folders above them, are watched, never a template's whole tree; `arm` moves
 * the watch along as time goes.
 */
export class TemplateWatcher {
  private watcher: FSWatcher | undefined;
  private armed = "";

  constructor(private readonly onFile: (path: string) => void) {}

  /** Watches the folders of the intervals around `now` of each metric set with a local template. */
  async arm(metricSets: readonly MetricSet[], now: number): Promise<void> {
    const folders = new Set<string>();
    for (const m of metricSets) {
      const template = m.MetricSource.S3SourceConfig?.TemplatedPathList?.[0];
      if (!template || parseLocation(template).kind !== "local") continue;
      const len = intervalMs(m.MetricSetFrequency);
      const open = Math.floor(intervalClock(m)(now) / len) * len;
      for (const k of AROUND) {
        const folder = intervalFolder(m, open + k * len);
        if (folder && folders.size < MAX_WATCHED_FOLDERS) folders.add(resolve(parseLocation(folder).kind === "local" ? folder.replace(/^file:\/\//, "") : folder));
      }
    }
    const key = [...folders].sort().join("\n");
    if (key === this.armed) return;
    await this.close();
    this.armed = key;
    if (!folders.size) return;
    const targets = [...folders];
    const roots = [...new Set(targets.map(existingAncestor))];
    const wanted = (p: string) => roots.includes(p) || targets.some((t) => p === t || t.startsWith(p + sep) || p.startsWith(t + sep));
    const depth = Math.max(...targets.map((t) => t.split(sep).length)) - Math.min(...roots.map((r) => r.split(sep).length)) + 1;
    this.watcher = watch(roots, { ignoreInitial: true, depth, ignored: (p) => !wanted(resolve(p)), awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } });
    this.watcher.on("add", (p) => this.onFile(resolve(p)));
    this.watcher.on("error", () => {});
    await new Promise<void>((ready) => this.watcher!.once("ready", ready));
  }

  async close(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    this.armed = "";
    await w?.close();
  }
}

function existingAncestor(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}
