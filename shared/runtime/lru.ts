/**
 * A map of at most `capacity` entries, the least recently used dropped first: for caches
 * keyed by what tenants name (roles, regions), which must not grow with every name tried.
 * A Map keeps insertion order, so a hit is moved to the end and the first key is the oldest.
 */
export class Lru<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {}

  /** The entry at `key`, made by `make` when there is none (and counted as the newest either way). */
  of(key: string, make: () => V): V {
    let value = this.entries.get(key);
    if (value === undefined) value = make();
    else this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}

/** How many roles, accounts and regions a process keeps clients and credentials for. */
export const ROLE_CACHE_ENTRIES = 256;
