/**
 * Writes asked for at about the same time, made as one: items added in the same turn of
 * the event loop are written together, `max` at a time (SQS's batch of ten, one append to
 * a file), and each caller's promise settles with its own batch's write. Concurrent
 * deliveries that park or enqueue thus cost one request per batch, not one each, and no
 * caller returns before its items are written.
 */
export class Coalescer<T> {
  private pending: { readonly item: T; readonly settle: (error: unknown) => void }[] = [];

  constructor(
    private readonly max: number,
    private readonly write: (items: T[]) => Promise<void>,
  ) {}

  add(items: readonly T[]): Promise<void> {
    if (this.pending.length === 0 && items.length) setImmediate(() => this.flush());
    const written = items.map((item) => new Promise<void>((resolve, reject) => this.pending.push({ item, settle: (e) => (e === undefined ? resolve() : reject(e)) })));
    return Promise.all(written).then(() => undefined);
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += this.max) {
      const batch = all.slice(i, i + this.max);
      this.write(batch.map((p) => p.item)).then(
        () => batch.forEach((p) => p.settle(undefined)),
        (e: unknown) => batch.forEach((p) => p.settle(e ?? new Error("write failed"))),
      );
    }
  }
}
