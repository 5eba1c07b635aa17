/**
 * Series keys come from a tenant's files, and the engine and the aggregate number them
 * through open-addressing tables over FNV-1a hashes, whose collisions are cheap to make.
 * A lookup that goes through more slots than this means keys chosen to collide (keys that
 * are not make tens at a million, a table at most half full): the table gives way to a Map,
 * which hashes strings with a seed of the process's own, so one file of such keys costs
 * what a Map costs, not time quadratic in its series. That holds for keys under 16,384 code
 * units, from which V8 hashes a string by its length alone: rows whose dimension values hold
 * more than MAX_SERIES_KEY_LENGTH characters are kept aside at ingestion (ingest/rows.ts).
 */
export const MAX_PROBES = 512;

/**
 * Keys numbered in the order they first came: the keys, and an open-addressing table of
 * number + 1 (0 empty, at most half full) over their FNV-1a hashes. A million keys cost a few
 * typed arrays and their strings, where a Map of them cost four times the time to build and
 * a structure the garbage collector walked again and again. A key may be looked up in two
 * parts (`head`, `tail`), not joined for the lookup.
 */
export class KeyTable {
  keys: string[] = [];
  private hashes = new Uint32Array(16);
  private slots = new Int32Array(32);
  /** The numbers by key once a lookup ran past MAX_PROBES: the table gives way to it. */
  private crowded: Map<string, number> | undefined;
  /** The empty slot the last lookup that found nothing ended at. */
  private ended = 0;

  /** A table of `keys`, numbered in their order (one given twice keeps its first number: the table is then smaller). */
  static of(keys: readonly string[]): KeyTable {
    const table = new KeyTable();
    table.hashes = new Uint32Array(Math.max(16, keys.length));
    table.slots = new Int32Array(2 ** Math.ceil(Math.log2(Math.max(32, 2 * keys.length + 2))));
    for (const key of keys) table.intern(key);
    return table;
  }

  get size(): number {
    return this.keys.length;
  }

  /** Whether the table gave way to a Map. */
  get gaveWay(): boolean {
    return this.crowded !== undefined;
  }

  /** The number of `head + tail`, or −1. */
  find(head: string, tail = ""): number {
    return this.at(head, tail, hashOf(head, tail));
  }

  /** The number of `head + tail`, numbered now when new. */
  intern(head: string, tail = ""): number {
    const hash = hashOf(head, tail);
    const found = this.at(head, tail, hash);
    if (found >= 0) return found;
    const n = this.keys.push(tail === "" ? head : head + tail) - 1;
    if (this.crowded) {
      this.crowded.set(this.keys[n]!, n);
      return n;
    }
    if (n === this.hashes.length) {
      const grown = new Uint32Array(n * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[n] = hash;
    if (2 * (n + 1) > this.slots.length) this.rehash(this.slots.length * 2);
    else this.slots[this.ended] = n + 1;
    return n;
  }

  /** The number of `head + tail`, or −1 (the empty slot its probe ended at kept in `ended`). */
  private at(head: string, tail: string, hash: number): number {
    if (this.crowded) return this.crowded.get(tail === "" ? head : head + tail) ?? -1;
    const { slots, hashes, keys } = this;
    const mask = slots.length - 1;
    const length = head.length + tail.length;
    let i = hash & mask;
    for (let held = slots[i]!, probes = 0; held !== 0; i = (i + 1) & mask, held = slots[i]!) {
      if (hashes[held - 1] === hash) {
        const key = keys[held - 1]!;
        if (tail === "" ? key === head : key.length === length && key.startsWith(head) && key.endsWith(tail)) return held - 1;
      }
      if (++probes > MAX_PROBES) return this.giveWay(head, tail);
    }
    this.ended = i;
    return -1;
  }

  /** From now on the keys are found through a Map. */
  private giveWay(head: string, tail: string): number {
    this.crowded = new Map(this.keys.map((k, n) => [k, n]));
    return this.at(head, tail, 0);
  }

  private rehash(length: number): void {
    const slots = new Int32Array(length);
    const mask = length - 1;
    for (let n = 0; n < this.keys.length; n++) {
      let i = this.hashes[n]! & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = n + 1;
    }
    this.slots = slots;
  }
}

/** FNV-1a over `head` then `tail`: the hash of their join, without joining them. */
function hashOf(head: string, tail: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < head.length; i++) h = Math.imul(h ^ head.charCodeAt(i), 0x01000193);
  for (let i = 0; i < tail.length; i++) h = Math.imul(h ^ tail.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
