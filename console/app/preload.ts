/**
 * Loads started before the page's script has run: the early script (start.ts) is small and
 * runs while the browser still fetches and compiles the console, so a page's first data is
 * on its way at once instead of after the whole console has started. A preloaded load is
 * taken once; a page opened again loads anew.
 */
const started = new Map<string, Promise<unknown>>();

export function preload(key: string, load: () => Promise<unknown>): void {
  const promise = load();
  // Failures are the taker's to show; an untaken one is not an error of its own.
  promise.catch(() => undefined);
  started.set(key, promise);
}

/** The load preloaded under `key`, taken, or `load()` when there is none. */
export function preloaded<T>(key: string, load: () => Promise<T>): Promise<T> {
  const promise = started.get(key);
  if (!promise) return load();
  started.delete(key);
  return promise as Promise<T>;
}

/** Drops every load not yet taken: asked with a session that has ended, they answer for nobody now. */
export function forgetPreloads(): void {
  started.clear();
}
