/** What a write answers: nothing (all written), or each item's failure in order (undefined: written). */
export type Written = void | readonly unknown[];

/** A bound on a batch's size besides its count: items of `sizeOf` are batched up to `max` in all (an item larger goes alone). */
export interface SizeBound<T> {
  readonly sizeOf: (item: T) => number;
  readonly max: number;
}

/**
 * Writes asked for at about the same time, made as one: items added in the same turn of
 * the event loop are written together, `max` at a time (SQS's batch of ten, one append to
 * a file) and, given a size bound, no more than it holds; each caller's promise settles
 * with its own items' writes (a write may fail some items of a batch and not the others).
 * Concurrent deliveries that park or enqueue thus cost one request per batch, not one each,
 * and no caller returns before its items are written.
 */
export class Coalescer<T> {
  private pending: { readonly item: T; readonly settle: (error: unknown) => void }[] = [];

  constructor(
    private readonly max: number,
    private readonly write: (items: T[]) => Promise<Written>,
    private readonly size?: SizeBound<T>,
  ) {}

  add(items: readonly T[]): Promise<void> {
    if (this.pending.length === 0 && items.length) setImmediate(() => this.flush());
    const written = items.map((item) => new Promise<void>((resolve, reject) => this.pending.push({ item, settle: (e) => (e === undefined ? resolve() : reject(e)) })));
    return Promise.all(written).then(() => undefined);
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    for (const batch of this.batches(all)) {
      this.write(batch.map((p) => p.item)).then(
        (failures) => batch.forEach((p, i) => p.settle(failures?.[i])),
        (e: unknown) => batch.forEach((p) => p.settle(e ?? new Error("write failed"))),
      );
    }
  }

  /** `all` in order, cut into batches of `max` items at most and, given a size bound, of its size at most. */
  private *batches<P extends { readonly item: T }>(all: readonly P[]): Generator<P[]> {
    let batch: P[] = [];
    let size = 0;
    for (const p of all) {
      const n = this.size?.sizeOf(p.item) ?? 0;
      if (batch.length === this.max || (this.size && batch.length > 0 && size + n > this.size.max)) {
        yield batch;
        [batch, size] = [[], 0];
      }
      batch.push(p);
      size += n;
    }
    if (batch.length) yield batch;
  }
}
