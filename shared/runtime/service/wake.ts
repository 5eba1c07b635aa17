/**
 * A doorbell: `ring` wakes whoever waits, or the next to wait when nobody does yet, so a
 * ring between two waits is not lost.
 */
export class Doorbell {
  private rung = false;
  private waiters: (() => void)[] = [];

  ring(): void {
    this.rung = true;
    for (const w of this.waiters.splice(0)) w();
  }

  get pending(): boolean {
    return this.rung;
  }

  /** Waits for a ring, or for `sleep` to end (it is given a signal that aborts on the ring); answers whether it rang. */
  async wait(sleep: (signal: AbortSignal) => Promise<void>): Promise<boolean> {
    if (!this.rung) {
      const stop = new AbortController();
      let waiter: (() => void) | undefined;
      await Promise.race([sleep(stop.signal), new Promise<void>((resolve) => this.waiters.push((waiter = resolve)))]);
      stop.abort();
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
    const rang = this.rung;
    this.rung = false;
    return rang;
  }
}
